/* session.c - unit tests of smtp.h's >>session over the scripted peer:
   transactions, refused recipients and data, pipelining and batches, BDAT, a
   421, HELO fallback, state errors, progress and cancel, SMTPUTF8 / 8BITMIME
   / SIZE / DSN. */
#include "unit.h"

TEST(refused_recipient_partial)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[3];
    const char *to[] = { "a@example.com", "refuse@example.com", NULL };
    const char *cc[] = { "c@example.com", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    memset(res, 0x55, sizeof res);
    m.from = "x@example.com"; m.to = to; m.cc = cc; m.text = "hi";
    m.results = res; m.results_cap = 3;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_PARTIAL);
    CHECK_EQ_INT(F.messages, 1);
    CHECK_EQ_INT(res[0].accepted, 1); CHECK_EQ_INT(res[0].code, 250);
    CHECK_EQ_INT(res[1].accepted, 0); CHECK_EQ_INT(res[1].code, 550);
    CHECK_EQ_STR(res[1].address, "refuse@example.com");
    CHECK_EQ_STR(res[1].status, "5.1.1");
    CHECK_EQ_STR(res[1].text, "<refuse>: Recipient address rejected");
    CHECK_EQ_INT(res[2].accepted, 1);
    CHECK_CONTAINS(smtp_error_detail(&S), "refuse@example.com");
    CHECK_CONTAINS(smtp_error_detail(&S), "550 5.1.1");
    /* the session goes on */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

static int cb_count, cb_refused;
static void on_result(void *user, const smtp_rcpt_result *r)
{
    (void)user;
    cb_count++;
    if (!r->accepted) cb_refused++;
}

TEST(too_many_recipients_452_continues)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "r1@x.org", "r2@x.org", "r3@x.org", "r4@x.org", "r5@x.org", NULL };
    fake_reset();
    F.max_rcpt = 2;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    m.on_result = on_result; cb_count = cb_refused = 0;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(F.mails, 3);
    CHECK_EQ_INT(F.messages, 3);
    CHECK_EQ_INT(fake_count("RCPT TO:<r3@x.org>"), 2);   /* 452 once, then in the next transaction */
    CHECK_EQ_INT(cb_count, 5);
    CHECK_EQ_INT(cb_refused, 0);
    smtp_close(&S);
}

/* An envelope longer than the write buffer (800 recipients, ~24 KB of
   RCPT lines): it is flushed on the way, and a stepped session stops in
   the middle of it; each line still goes out once (unit-stepped and the
   transcripts check the bytes too). */
TEST(envelope_longer_than_the_buffer)
{
    static char addr[800][24];
    static const char *to[801];
    smtp_config cfg;
    smtp_message m;
    int i, once = 0;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    for (i = 0; i < 800; i++) { snprintf(addr[i], sizeof addr[i], "u%03d@x.org", i); to[i] = addr[i]; }
    to[800] = NULL;
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "to many";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("RCPT TO:<"), 800);
    for (i = 0; i < 800; i++) {
        char line[48];
        snprintf(line, sizeof line, "RCPT TO:<%.23s>\r\n", addr[i]);
        once += fake_count(line) == 1;
    }
    CHECK_EQ_INT(once, 800);
    CHECK(F.messages >= 1);
    smtp_close(&S);
}

/* The step API misused: each a clear SMTP_ERR_STATE, nothing sent for it,
   the operation under way unharmed; closed in the middle, the message
   counts as not sent and no QUIT goes into its body. */
/* smtp_quit_start: QUIT goes out in steps, its reply is read, the
   connection closes; smtp_close then says nothing more. */
TEST(stepped_quit)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "a@x.org", NULL };
    smtp_result r;
    int steps = 0;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_quit_start(NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_quit_start(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_timeout_ms(&S), 0);                       /* step at once */
    CHECK_EQ_INT(fake_count("QUIT"), 0);                         /* nothing went out yet */
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "not now";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_STATE);             /* one operation at a time */
    CHECK_EQ_INT(smtp_quit_start(&S), SMTP_ERR_STATE);
    while ((r = smtp_step(&S)) == SMTP_WANT_READ || r == SMTP_WANT_WRITE) steps++;
    CHECK_EQ_INT(r, SMTP_OK);
    CHECK_EQ_INT(fake_count("QUIT"), 1);
    CHECK(smtp_fd(&S) == SMTP_INVALID_SOCKET);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 221);                /* its reply was read */
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(fake_count("QUIT"), 1);                         /* no second QUIT */
    /* a session with nothing to QUIT: the first step is the end */
    CHECK_EQ_INT(smtp_quit_start(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_step(&S), SMTP_OK);
    CHECK_EQ_INT(fake_count("QUIT"), 1);
}

TEST(stepping_misuse)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "a@x.org", NULL };
    smtp_result r;
    size_t before;
    int steps = 0;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_step(&S), SMTP_ERR_STATE);                 /* nothing under way */
    CHECK_CONTAINS(smtp_error_detail(&S), "nothing under way");
    CHECK_EQ_INT(smtp_step(NULL), SMTP_ERR_PARAM);
    CHECK(smtp_fd(NULL) == SMTP_INVALID_SOCKET);
    CHECK_EQ_INT(smtp_timeout_ms(NULL), -1);
    CHECK_EQ_INT(smtp_timeout_ms(&S), -1);                       /* no deadline when idle */
    CHECK_EQ_INT(smtp_send_start(&S, NULL), SMTP_ERR_PARAM);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "stepped";
    CHECK_EQ_INT(smtp_send_start(&S, &m), SMTP_OK);
    before = F.outlen;
    CHECK_EQ_INT(smtp_send_start(&S, &m), SMTP_ERR_STATE);       /* one operation at a time */
    CHECK_CONTAINS(smtp_error_detail(&S), "under way");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_rset(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_mail_from(&S, "x@example.com"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_STATE);
    CHECK_EQ_INT(F.outlen, before);                              /* none of them wrote a byte */
    while ((r = smtp_step(&S)) == SMTP_WANT_READ || r == SMTP_WANT_WRITE) steps++;
    CHECK_EQ_INT(r, SMTP_OK);                                    /* the send under way went on */
    CHECK_EQ_INT(F.messages, 1);
    CHECK(steps > 0);
    CHECK_EQ_INT(smtp_step(&S), SMTP_ERR_STATE);                 /* done: nothing under way again */
    /* closed in the middle of the body: dropped, not QUIT */
    m.text = "a longer text, so that the body is under way when the close comes\n"
             "a longer text, so that the body is under way when the close comes\n";
    CHECK_EQ_INT(smtp_send_start(&S, &m), SMTP_OK);
    while ((r = smtp_step(&S)) == SMTP_WANT_READ || r == SMTP_WANT_WRITE)
        if (F.in_data) break;                                    /* the server is reading the body */
    CHECK(F.in_data);
    smtp_close(&S);
    CHECK_EQ_INT(F.messages, 1);                                 /* the second never completed */
    CHECK_EQ_INT(fake_count("QUIT"), 0);
    CHECK(smtp_send(&S, &m) < SMTP_OK);                          /* closed */
    CHECK_EQ_INT(smtp_step(&S) < SMTP_OK, 1);
}

TEST(all_refused_sends_nothing)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "refuse1@x.org", "refuse2@x.org", NULL };
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250 8BITMIME\r\n";     /* no PIPELINING: one command at a time */
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(fake_count("DATA"), 0);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_CONTAINS(smtp_error_detail(&S), "none of the 2 recipients");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(pipelined_group_all_refused)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[2];
    const char *to[] = { "refuse1@x.org", "refuse2@x.org", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 2;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    /* one write: MAIL, both RCPTs and DATA together (RFC 2920) */
    CHECK_EQ_INT(fake_count("MAIL FROM:<x@example.com>\r\nRCPT TO:<refuse1@x.org>\r\nRCPT TO:<refuse2@x.org>\r\nDATA\r\n"), 1);
    CHECK_EQ_INT(F.messages, 0);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);             /* the refused DATA left a transaction open */
    CHECK_EQ_INT(res[0].code, 550);
    CHECK_EQ_INT(res[1].code, 550);
    CHECK_CONTAINS(smtp_error_detail(&S), "550 5.1.1");
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(batch_pipelines_across_messages)
{
    smtp_config cfg;
    smtp_message m[4];
    smtp_result res[4];
    const char *to1[] = { "a@x.org", NULL }, *to2[] = { "b@x.org", "refuse@x.org", NULL }, *bad[] = { "no-at-sign", NULL };
    int i;
    int pass;
    for (pass = 0; pass < 2; pass++) {   /* 0: the default, one transaction at a time; 1: pipeline_messages */
    fake_reset();
    F.data_reply = "554 5.7.1 rejected\r\n"; F.data_reply_at = 3;   /* the third message that arrives */
    memset(&cfg, 0, sizeof cfg);
    cfg.pipeline_messages = pass;
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(m, 0, sizeof m);
    for (i = 0; i < 4; i++) { m[i].from = "s@x.org"; m[i].to = to1; m[i].text = "batch"; }
    m[1].to = to2;          /* partial */
    m[2].to = bad;          /* refused before a byte: PARAM, and the batch goes on */
    F.writes = 0;
    CHECK_EQ_INT(smtp_send_batch(&S, m, 4, res), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0], SMTP_OK);
    CHECK_EQ_INT(res[1], SMTP_PARTIAL);
    CHECK_EQ_INT(res[2], SMTP_ERR_PARAM);
    CHECK_EQ_INT(res[3], SMTP_ERR_REPLY);    /* its final reply was 554 */
    CHECK_EQ_INT(F.messages, 3);
    CHECK_EQ_INT(fake_count("no-at-sign"), 0);
    if (pass) {   /* the end of one message and the next envelope went out in one write */
        CHECK_EQ_INT(fake_count("\r\n.\r\nMAIL FROM:<s@x.org>\r\nRCPT TO:<"), 2);
#ifndef UNIT_STEPPED   /* stepped, the peer takes a few bytes a write: the transcripts are compared instead */
        CHECK_EQ_INT(F.writes, 4);            /* envelope 1; dot 1 + envelope 2; dot 2 + envelope 4; dot 4 */
#endif
    } else {      /* never anything after the end of data before its reply (Dovecot, Haraka, chasquid) */
#ifndef UNIT_STEPPED
        CHECK_EQ_INT(F.writes, 6);            /* envelope, then the dot alone, for each of the three */
#endif
    }
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
    }
}

TEST(bdat_chunks_and_a_refused_chunk)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    static char body[60000];
    size_t i;
    for (i = 0; i < sizeof body - 1; i++) body[i] = (i % 61 == 0) ? '\n' : (i % 61 == 1 ? '.' : 'x');
    fake_reset();
    F.ehlo_reply = "250-fake.test\r\n250-PIPELINING\r\n250 CHUNKING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = body; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(F.messages, 1);
    CHECK(F.chunks >= 4);                                  /* 60 KB in 16 KB chunks */
    CHECK_EQ_INT(fake_count("DATA\r\n"), 0);
    CHECK(memmem(F.msg, F.msglen, "\r\n.xxx", 6) != NULL);  /* no dot-stuffing in BDAT */
    CHECK(memmem(F.msg, F.msglen, "\r\n..", 4) == NULL);
    /* the second chunk refused: no more chunks, nothing counted as sent, RSET, the session goes on */
    F.refuse_chunk = 2;
    i = (size_t)fake_count("BDAT");
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(F.messages, 1);
    CHECK(fake_count("BDAT") - (int)i <= 3);            /* the refused one, maybe one more in flight */
    CHECK_EQ_INT(fake_count(" LAST\r\n"), 1);             /* the refused message never got its LAST */
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 552);
    CHECK_EQ_STR(res[0].status, "5.3.4");
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(refused_data_then_rset)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    fake_reset();
    F.refuse_data = 1;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 554);
    CHECK_EQ_INT(fake_count("RSET\r\n"), 1);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    smtp_close(&S);
}

TEST(final_reply_refused_counts_nothing)
{
    smtp_config cfg;
    smtp_message m;
    smtp_rcpt_result res[1];
    const char *to[] = { "a@x.org", NULL };
    fake_reset();
    F.data_reply = "554 5.7.1 spam\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi"; m.results = res; m.results_cap = 1;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_REPLY);
    CHECK_EQ_INT(res[0].accepted, 0);
    CHECK_EQ_INT(res[0].code, 554);
    CHECK_EQ_STR(res[0].status, "5.7.1");
    CHECK_EQ_INT(fake_count("RSET\r\n"), 0);   /* the transaction ended with the final reply */
    smtp_close(&S);
}

TEST(injection_is_param_before_any_byte)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "ok@x.org", "a@b\r\nRCPT TO:<x@y>", NULL };
    size_t before;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    before = F.outlen;
    memset(&m, 0, sizeof m);
    m.from = "x@example.com"; m.to = to; m.text = "hi";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "message.to[1]");
    to[1] = NULL;
    m.subject = "hi\r\nBcc: evil@x.org";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "subject");
    m.subject = NULL; m.from = NULL;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "from");
    m.from = "x@example.com"; m.envelope_from = "a@b\nc";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    m.envelope_from = NULL; m.to = NULL;
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_PARAM);
    CHECK_CONTAINS(smtp_error_detail(&S), "no recipient");
    CHECK_EQ_INT(smtp_send(&S, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b>\r\nDATA"), SMTP_ERR_PARAM);
    CHECK_EQ_INT(smtp_mail_from(&S, NULL), SMTP_ERR_PARAM);
    CHECK_EQ_INT(F.outlen, before);                        /* not one byte went out */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);                  /* and the session is fine */
    smtp_close(&S);
}

TEST(null_sender_and_envelope)
{
    smtp_config cfg;
    smtp_message m;
    const char *to[] = { "postmaster", NULL };
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    memset(&m, 0, sizeof m);
    m.from = "Daemon <daemon@x.org>"; m.envelope_from = ""; m.to = to; m.text = "bounce";
    CHECK_EQ_INT(smtp_send(&S, &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<>\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<postmaster>\r\n"), 1);
    smtp_close(&S);
}

TEST(code_421_ends_the_session)
{
    smtp_config cfg;
    size_t before;
    fake_reset();
    F.rcpt_421 = 1;
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "x@y.z"), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 421);
    CHECK_CONTAINS(smtp_error_detail(&S), "421 4.3.2 shutting down");
    before = F.outlen;
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_CLOSED);          /* sticky, no I/O */
    CHECK_EQ_INT(smtp_rset(&S), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(F.outlen, before);
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_CLOSED);
    CHECK_EQ_INT(F.outlen, before);                        /* no QUIT on a dead session */
}

TEST(unsolicited_bytes_are_protocol_error)
{
    smtp_config cfg;
    fake_reset();
    fake_queue("250 nobody asked\r\n");
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_ERR_PROTOCOL);
    CHECK_CONTAINS(smtp_error_detail(&S), "answer nothing");
    CHECK_EQ_INT(fake_count("EHLO"), 0);
    smtp_close(&S);
}

TEST(helo_fallback)
{
    smtp_config cfg;
    fake_reset();
    F.ehlo_reply = "502 5.5.1 EHLO not implemented\r\n";
    memset(&cfg, 0, sizeof cfg);
    cfg.helo_name = "client.example.org";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(fake_count("EHLO client.example.org\r\nHELO client.example.org\r\n"), 1);
    CHECK_EQ_INT(smtp_extensions(&S), 0);
    smtp_close(&S);
}

TEST(ehlo_learned_and_last_reply)
{
    smtp_config cfg;
    fake_reset();
    F.ehlo_reply = "250-fake.test greets you\r\n250-SIZE 52428800\r\n250-AUTH=LOGIN\r\n250-AUTH PLAIN CRAM-MD5\r\n250 CHUNKING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_size_limit(&S), 52428800);
    CHECK_EQ_INT(smtp_supported_auth(&S), SMTP_AUTH_LOGIN | SMTP_AUTH_PLAIN | SMTP_AUTH_CRAM_MD5);
    CHECK_EQ_INT(smtp_extensions(&S), SMTP_EXT_SIZE | SMTP_EXT_AUTH | SMTP_EXT_CHUNKING);
    CHECK_EQ_INT(smtp_last_reply(&S)->lines, 5);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_last_reply(&S)->code, 250);
    CHECK_EQ_STR(smtp_last_reply(&S)->status, "2.0.0");
    CHECK_EQ_STR(smtp_last_reply(&S)->text, "Ok");
    smtp_close(&S);
}

TEST(state_errors)
{
    smtp_config cfg;
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "x", 1), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "a@b.c"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_ERR_STATE);     /* no recipient yet */
    CHECK_EQ_INT(smtp_rcpt_to(&S, "refuse@b.c"), SMTP_ERR_REPLY);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "ok@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_STATE);
    CHECK_EQ_INT(smtp_data_write(&S, "a\n.b", 4), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_MEM(F.msg, F.msglen, "a\r\n..b\r\n", 8);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_close(&S), SMTP_OK);                 /* twice is harmless */
    CHECK_EQ_INT(smtp_noop(&S), SMTP_ERR_STATE);
}

static unsigned long long progress_seen;
static int progress_calls;
static int on_progress(void *user, unsigned long long sent)
{
    progress_calls++;
    progress_seen = sent;
    return sent >= *(unsigned long long *)user;
}

TEST(progress_and_cancel)
{
    smtp_config cfg;
    static char body[100000];
    unsigned long long limit = ~0ull;
    memset(body, 'x', sizeof body);
    fake_reset();
    memset(&cfg, 0, sizeof cfg);
    cfg.progress = on_progress; cfg.progress_user = &limit;
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    progress_calls = 0;
    CHECK_EQ_INT(smtp_data_write(&S, body, sizeof body), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_INT(progress_seen, sizeof body + 5);      /* every byte, the end of data too */
    CHECK(progress_calls >= 6);
    CHECK_EQ_INT(F.messages, 1);
    /* cancelled at 32 KB: no end of data, the session is over, nothing counted as sent */
    limit = 32768;
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, body, sizeof body), SMTP_ERR_ABORTED);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_ERR_ABORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "cancelled");
    CHECK_EQ_INT(F.messages, 1);
    CHECK_EQ_INT(smtp_close(&S), SMTP_ERR_ABORTED);
}

TEST(smtputf8_or_a_labels)
{
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SMTPUTF8\r\n", "jörg@bücher.example", "hi", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> SMTPUTF8\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<jörg@bücher.example>\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "To: jörg@bücher.example", 24) != NULL);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "info@bücher.example", "hi", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("RCPT TO:<info@xn--bcher-kva.example>\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "To: info@xn--bcher-kva.example", 30) != NULL);
    CHECK_EQ_INT(fake_count("SMTPUTF8"), 0);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "jörg@x.example", "hi", NULL), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "jörg@x.example");
    CHECK_CONTAINS(smtp_error_detail(&S), "local part");
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "a@Straße.example", "hi", NULL), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "Straße");
    CHECK_EQ_INT(fake_count("MAIL"), 0);
    smtp_close(&S);
}

TEST(eightbit_declared_or_encoded)
{
    smtp_config cfg;
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 8BITMIME\r\n", "b@x.org", "grüß dich\n", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> BODY=8BITMIME\r\n"), 1);
    CHECK(memmem(F.msg, F.msglen, "Content-Transfer-Encoding: 8bit", 31) != NULL);
    CHECK(memmem(F.msg, F.msglen, "grüß dich", 11) != NULL);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "grüß dich\n", NULL), SMTP_OK);
    CHECK_EQ_INT(fake_count("BODY="), 0);
    CHECK(memmem(F.msg, F.msglen, "quoted-printable", 16) != NULL);
    for (size_t i = 0; i < F.msglen; i++) if ((unsigned char)F.msg[i] >= 0x80) { CHECK(0); break; }
    smtp_close(&S);
    /* raw 8-bit bytes through smtp_data_write: refused unless declared, never sent damaged */
    fake_reset();
    F.ehlo_reply = "250-fake\r\n250 PIPELINING\r\n";
    memset(&cfg, 0, sizeof cfg);
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from(&S, "a@b.c"), SMTP_OK);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "plain\n", 6), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\n", 7), SMTP_ERR_UNSUPPORTED);
    CHECK_CONTAINS(smtp_error_detail(&S), "does not offer 8BITMIME");
    CHECK(memmem(F.out, F.outlen, "gr\xc3\xbc", 4) == NULL);
    CHECK_EQ_INT(F.messages, 0);
    smtp_close(&S);
    fake_reset();
    F.ehlo_reply = "250-fake\r\n250 8BITMIME\r\n";
    CHECK_EQ_INT(fake_open(&S, &cfg), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from_opts(&S, "a@b.c", "BODY=8BITMIME"), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<a@b.c> BODY=8BITMIME\r\n"), 1);
    CHECK_EQ_INT(smtp_rcpt_to(&S, "d@e.f"), SMTP_OK);
    CHECK_EQ_INT(smtp_data_begin(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_data_write(&S, "gr\xc3\xbc\xc3\x9f\n", 7), SMTP_OK);
    CHECK_EQ_INT(smtp_data_end(&S), SMTP_OK);
    CHECK_EQ_INT(smtp_mail_from_opts(&S, "a@b.c", "BODY=8BITMIME\r\nRSET"), SMTP_ERR_PARAM);
    smtp_close(&S);
}

TEST(size_declared_and_enforced)
{
    static char big[5000];
    long declared;
    const char *p;
    memset(big, 'x', sizeof big - 1);
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SIZE 100000\r\n", "b@x.org", "short\n", NULL), SMTP_OK);
    p = memmem(F.out, F.outlen, " SIZE=", 6);
    CHECK(p != NULL);
    declared = p ? strtol(p + 6, NULL, 10) : 0;
    CHECK(declared >= (long)F.msglen && declared <= (long)F.msglen + 40);   /* the real size, a little over */
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", "b@x.org", big, NULL), SMTP_ERR_TOO_LONG);
    CHECK_CONTAINS(smtp_error_detail(&S), "at most 1000");
    CHECK_EQ_INT(fake_count("MAIL"), 0);                   /* refused before anything was sent */
    smtp_close(&S);
    /* the second message of a session is measured whole too (the composer's
       place in the message before it must not skip any of its parts) */
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 SIZE 1000\r\n", "b@x.org", "short\n", NULL), SMTP_OK);
    {
        smtp_message m;
        const char *to[] = { "b@x.org", NULL };
        memset(&m, 0, sizeof m);
        m.from = "alice@example.com"; m.to = to; m.text = big;
        CHECK_EQ_INT(smtp_send(&S, &m), SMTP_ERR_TOO_LONG);
        CHECK_CONTAINS(smtp_error_detail(&S), "at most 1000");
        CHECK_EQ_INT(fake_count("MAIL"), 1);               /* the first message's only */
    }
    smtp_close(&S);
}

TEST(dsn_parameters)
{
    smtp_message m;
    memset(&m, 0, sizeof m);
    m.dsn_notify = "SUCCESS,FAILURE"; m.dsn_ret = "HDRS"; m.dsn_envid = "id+1=2"; m.dsn_orcpt = 1;
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 DSN\r\n", "b@x.org", "dsn", &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("MAIL FROM:<alice@example.com> RET=HDRS ENVID=id+2B1+3D2\r\n"), 1);
    CHECK_EQ_INT(fake_count("RCPT TO:<b@x.org> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@x.org\r\n"), 1);
    smtp_close(&S);
    CHECK_EQ_INT(send_to("250-fake\r\n250 PIPELINING\r\n", "b@x.org", "dsn", &m), SMTP_OK);
    CHECK_EQ_INT(fake_count("NOTIFY"), 0);             /* not offered: sent without, a note in the trace */
    smtp_close(&S);
    m.dsn_notify = "SOMETIMES";
    CHECK_EQ_INT(send_to("250-fake\r\n250-PIPELINING\r\n250 DSN\r\n", "b@x.org", "dsn", &m), SMTP_ERR_PARAM);
    smtp_close(&S);
}

void unit_session(void)
{
    RUN(refused_recipient_partial);
    RUN(too_many_recipients_452_continues);
    RUN(envelope_longer_than_the_buffer);
    RUN(stepping_misuse);
    RUN(stepped_quit);
    RUN(all_refused_sends_nothing);
    RUN(pipelined_group_all_refused);
    RUN(batch_pipelines_across_messages);
    RUN(bdat_chunks_and_a_refused_chunk);
    RUN(refused_data_then_rset);
    RUN(final_reply_refused_counts_nothing);
    RUN(injection_is_param_before_any_byte);
    RUN(null_sender_and_envelope);
    RUN(code_421_ends_the_session);
    RUN(unsolicited_bytes_are_protocol_error);
    RUN(helo_fallback);
    RUN(ehlo_learned_and_last_reply);
    RUN(state_errors);
    RUN(progress_and_cancel);
    RUN(smtputf8_or_a_labels);
    RUN(eightbit_declared_or_encoded);
    RUN(size_declared_and_enforced);
    RUN(dsn_parameters);
}
