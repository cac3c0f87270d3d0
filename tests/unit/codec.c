/* codec.c - unit tests of smtp.h's >>codec: base64 both ways (decoding
   strict), cutting UTF-8 at a character start. */
#include "unit.h"

TEST(base64_and_utf8_cut)
{
    char out[32];
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"", 0, out), "", 0);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"f", 1, out), "Zg==", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"fo", 2, out), "Zm8=", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"foo", 3, out), "Zm9v", 4);
    CHECK_EQ_MEM(out, smtp__b64((const unsigned char *)"foobar", 6, out), "Zm9vYmFy", 8);
    /* "aé€" = 61 c3a9 e282ac: a cut at 2 or 3 moves back to a character start */
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 2), 1);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 4), 3);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 5), 3);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"a\xc3\xa9\xe2\x82\xac", 6, 6), 6);
    CHECK_EQ_INT(smtp__utf8_cut((const unsigned char *)"\x80\x80\x80\x80\x80", 5, 2), 2);  /* invalid: anywhere */
}

TEST(base64_decoding_is_strict)
{
    unsigned char out[64];
    CHECK_EQ_INT(smtp__unb64("Zm9vYmFy", 8, out), 6);
    CHECK_EQ_MEM(out, 6, "foobar", 6);
    CHECK_EQ_INT(smtp__unb64("Zm8=", 4, out), 2);
    CHECK_EQ_INT(smtp__unb64("Zg==", 4, out), 1);
    CHECK_EQ_INT(smtp__unb64("", 0, out), 0);
    CHECK_EQ_INT(smtp__unb64("Zm9", 3, out), -1);          /* not a multiple of 4 */
    CHECK_EQ_INT(smtp__unb64("Zm*v", 4, out), -1);
    CHECK_EQ_INT(smtp__unb64("Z===", 4, out), -1);
    CHECK_EQ_INT(smtp__unb64("Zg==Zg==", 8, out), -1);     /* padding in the middle */
    CHECK_EQ_INT(smtp__unb64("Zm 9", 4, out), -1);
}

void unit_codec(void)
{
    RUN(base64_and_utf8_cut);
    RUN(base64_decoding_is_strict);
}
