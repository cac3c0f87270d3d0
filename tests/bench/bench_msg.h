/* bench_msg.h - the message every smtp.h bench client sends (bench_smtph.c,
   bench_parallel.c): about 1 KB on the wire with smtp.h's headers (Date,
   Message-ID, From, To, Subject, MIME-Version, Content-Type,
   Content-Transfer-Encoding), a fixed text body of 10 lines of 75
   characters, one recipient. run.sh checks that smtp-sink receives the
   same bytes from every client. */
#ifndef BENCH_MSG_H
#define BENCH_MSG_H

static const char *const BENCH_TO[] = { "sink@example.com", NULL };
static char BENCH_BODY[1024];

static void bench_make_body(void)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog while smtp.h sends mail ";
    size_t o = 0, line, col;
    for (line = 0; line < 10; line++) {
        for (col = 0; col < 75; col++) BENCH_BODY[o++] = words[(line * 7 + col) % (sizeof words - 1)];
        BENCH_BODY[o++] = '\n';
    }
    BENCH_BODY[o] = 0;
}

/* the fields every bench message has; the composer does the rest */
static void bench_fill_message(smtp_message *m)
{
    memset(m, 0, sizeof *m);
    m->from = "bench@example.com";
    m->to = BENCH_TO;
    m->subject = "smtp.h bench";
    m->text = BENCH_BODY;
}

#endif
