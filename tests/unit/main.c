/* main.c - runs the unit tests of every file in tests/unit/, in the order of
   smtp.h's sections; the last line is the totals (tests/test.h). */
#define TEST_MAIN
#include "unit.h"

int main(void)
{
    unit_platform();
    unit_tls();
    unit_reader();
    unit_codec();
    unit_md5();
    unit_sasl();
    unit_writer();
    unit_proxy();
    unit_config();
    unit_session();
    return TEST_END();
}
