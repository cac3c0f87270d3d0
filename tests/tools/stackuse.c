/* stackuse.c - measured stack use of smtp_open and smtp_send (make metrics).

   Each call runs alone in a thread whose stack is a buffer of ours
   (pthread_attr_setstack), painted with a pattern before the thread starts
   and scanned after it ends: the lowest word that no longer holds the
   pattern is the high-water mark. The figure is counted from the frame
   of the function that makes the call (__builtin_frame_address), so the
   thread's start-up frames do not count; a calibration frame of known
   size checks the method at start. The session lives in static storage, not on the measured
   stack, so it does not count; the same session goes from the smtp_open
   thread to the smtp_send thread (one thread at a time).

   usage: stackuse CA_FILE ATTACHMENT_PATH SCENARIO=PORT...
   SCENARIO is one of
     cleartext  SMTP_SECURITY_NONE to 127.0.0.1, AUTH CRAM-MD5,
                text + html + the attachment
     starttls   SMTP_SECURITY_STARTTLS to localhost, AUTH PLAIN,
                text + the attachment
     implicit   SMTP_SECURITY_IMPLICIT to localhost, no AUTH (so that the
                TLS handshake is the deepest part of smtp_open),
                text + html + the attachment
   The server (tests/tools/metrics.sh starts aiosmtpd) takes user alice,
   password "s3cret pass". Writes ATTACHMENT_PATH (64 KB of bytes) first.
   Prints one line per scenario; exits 1 when a call does not return
   SMTP_OK (the figures would measure an error path).

   Limits: a frame that is reserved but never written is not seen (the
   mark is what was touched); a word that happens to be written with the
   pattern's value is missed (one word, 8 bytes); libc and BearSSL frames
   below our calls are included, as they are in a real program. Link with
   -z now: lazy binding would add the dynamic linker's resolver frame to
   the first call of each library function. */
#define SMTP_IMPLEMENTATION
#include "../../smtp.h"
#include <netdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define STACK_BYTES (1024u * 1024u)
#define PATTERN 0x5aa5c33c96696996ull
#define RUNS 3

static smtp_session S;
static unsigned char *stack_lo;     /* the usable stack: [stack_lo, stack_lo + STACK_BYTES) */

typedef struct job {
    int (*fn)(struct job *j);
    smtp_config cfg;
    smtp_message msg;
    int rc;
    uintptr_t frame;        /* the frame address of the function making the measured call */
} job;

static void *thread_main(void *p)
{
    job *j = p;
    j->rc = j->fn(j);
    return NULL;
}

/* the bytes the thread touched below j->frame */
static size_t run_painted(job *j)
{
    uint64_t *w = (uint64_t *)(void *)stack_lo, *end = w + STACK_BYTES / sizeof *w;
    pthread_attr_t a;
    pthread_t t;
    size_t i;
    for (i = 0; w + i < end; i++) w[i] = PATTERN;
    if (pthread_attr_init(&a) || pthread_attr_setstack(&a, stack_lo, STACK_BYTES) ||
        pthread_create(&t, &a, thread_main, j) || pthread_join(t, NULL)) {
        fprintf(stderr, "stackuse: cannot run a thread on our stack\n");
        exit(2);
    }
    pthread_attr_destroy(&a);
    for (i = 0; w + i < end && w[i] == PATTERN; i++) {}
    if (i == 0) {
        fprintf(stderr, "stackuse: the whole %u-byte stack was used\n", STACK_BYTES);
        exit(2);
    }
    return (size_t)(j->frame - (uintptr_t)(w + i));
}

/* calibration: a frame that writes CALIB bytes; the measure must see them */
#define CALIB 20000
static int __attribute__((noinline)) do_calib(job *j)
{
    volatile unsigned char buf[CALIB];
    size_t i;
    j->frame = (uintptr_t)__builtin_frame_address(0);
    for (i = 0; i < CALIB; i++) buf[i] = (unsigned char)(i + 1);
    return j->rc + buf[CALIB / 2];
}
static int do_open(job *j)
{
    j->frame = (uintptr_t)__builtin_frame_address(0);
    return (int)smtp_open(&S, &j->cfg);
}

static int do_send(job *j)
{
    j->frame = (uintptr_t)__builtin_frame_address(0);
    return (int)smtp_send(&S, &j->msg);
}

static const char *TO[] = { "bob@example.com", NULL };
static smtp_attachment ATT;

static void scenario(job *j, const char *name, int port, const char *ca)
{
    memset(j, 0, sizeof *j);
    j->cfg.port = port;
    j->cfg.helo_name = "client.test";
    j->cfg.username = "alice"; j->cfg.password = "s3cret pass";
    j->cfg.timeout_ms = 60000;
    j->msg.from = "Alice <alice@example.com>"; j->msg.to = TO;
    j->msg.subject = "stack use";
    j->msg.text = "The text part of a message whose stack use is measured.\n";
    j->msg.attachments = &ATT; j->msg.attachment_count = 1;
    if (strcmp(name, "cleartext") == 0) {
        j->cfg.host = "127.0.0.1"; j->cfg.security = SMTP_SECURITY_NONE;
        j->cfg.allowed_auth = SMTP_AUTH_CRAM_MD5;
        j->msg.html = "<p>The <b>html</b> part.</p>\n";
    } else if (strcmp(name, "starttls") == 0) {
        j->cfg.host = "localhost"; j->cfg.security = SMTP_SECURITY_STARTTLS; j->cfg.ca_file = ca;
        j->cfg.allowed_auth = SMTP_AUTH_PLAIN;
    } else if (strcmp(name, "implicit") == 0) {
        j->cfg.host = "localhost"; j->cfg.security = SMTP_SECURITY_IMPLICIT; j->cfg.ca_file = ca;
        j->cfg.username = j->cfg.password = NULL;
        j->msg.html = "<p>The <b>html</b> part.</p>\n";
    } else {
        fprintf(stderr, "stackuse: unknown scenario %s\n", name);
        exit(2);
    }
}

static void write_attachment(const char *path)
{
    FILE *f = fopen(path, "wb");
    unsigned x = 12345;
    int i;
    if (!f) { perror(path); exit(2); }
    for (i = 0; i < 65536; i++) { x = x * 1103515245u + 12345u; fputc((int)(x >> 16) & 0xff, f); }
    if (fclose(f)) { perror(path); exit(2); }
}

int main(int argc, char **argv)
{
    struct addrinfo *ai = NULL;
    unsigned char *map;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    job j;
    int i, k, fail = 0;
    if (argc < 4) {
        fprintf(stderr, "usage: stackuse CA_FILE ATTACHMENT_PATH SCENARIO=PORT...\n");
        return 2;
    }
    write_attachment(argv[2]);
    ATT.path = argv[2]; ATT.filename = "data.bin";
    /* a guard page under the stack: an overflow faults instead of writing our data */
    map = mmap(NULL, STACK_BYTES + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED || mprotect(map, page, PROT_NONE)) { perror("mmap"); return 2; }
    stack_lo = map + page;
    /* the first name lookup of a process may load NSS modules: not ours to count */
    if (getaddrinfo("localhost", "25", NULL, &ai) == 0) freeaddrinfo(ai);
    memset(&j, 0, sizeof j);
    j.fn = do_calib;
    {   /* the frame of do_calib holds the buffer and a few words more */
        size_t c = run_painted(&j);
        printf("calibration %zu %u\n", c, CALIB);
        if (c < CALIB || c > CALIB + 256) {
            fprintf(stderr, "stackuse: a %u-byte frame measured as %zu bytes\n", CALIB, c);
            return 1;
        }
    }
    for (i = 3; i < argc; i++) {
        char name[32];
        const char *eq = strchr(argv[i], '=');
        size_t open_max = 0, send_max = 0;
        if (!eq || (size_t)(eq - argv[i]) >= sizeof name) { fprintf(stderr, "stackuse: bad %s\n", argv[i]); return 2; }
        memcpy(name, argv[i], (size_t)(eq - argv[i])); name[eq - argv[i]] = 0;
        for (k = 0; k < RUNS; k++) {
            size_t o, s;
            scenario(&j, name, atoi(eq + 1), argv[1]);
            j.fn = do_open;
            o = run_painted(&j);
            if (j.rc != SMTP_OK) {
                fprintf(stderr, "stackuse: %s: smtp_open: %s\n", name, smtp_error_detail(&S));
                fail = 1; smtp_close(&S); break;
            }
            j.fn = do_send;
            s = run_painted(&j);
            if (j.rc != SMTP_OK) {
                fprintf(stderr, "stackuse: %s: smtp_send: %s\n", name, smtp_error_detail(&S));
                fail = 1; smtp_close(&S); break;
            }
            if (smtp_close(&S) != SMTP_OK) {
                fprintf(stderr, "stackuse: %s: smtp_close: %s\n", name, smtp_error_detail(&S));
                fail = 1; break;
            }
            if (o > open_max) open_max = o;
            if (s > send_max) send_max = s;
        }
        if (open_max && send_max)
            printf("%s %zu %zu\n", name, open_max, send_max);
    }
    return fail;
}
