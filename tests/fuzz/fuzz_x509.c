/* fuzz_x509.c - the certificate checks (smtp__x509: BearSSL's minimal
   engine with our own DER reader around it) fed a server's chain the way
   the handshake feeds it: start_chain, per certificate start_cert(len),
   append in 256-byte pieces or in pieces of random sizes, end_cert; then
   end_chain and get_pkey. Built on the seam smtp__x509_init (no TLS
   engine). Trust anchors: two test roots made with openssl (an RSA one
   with an intermediate, an EC one), their certificates and those they
   issued embedded below; minimal's clock is set to 2027-06-01 so the
   verdicts do not depend on the day.
   Input: byte 0: verify mode (bits 0-1: FULL, NO_HOSTNAME, NONE, and 3
   as FULL), pin (bits 2-3: none, SHA-256 of leaf1's DER, of leaf1's
   SubjectPublicKeyInfo, 32 bytes from the input), host (bits 4-5:
   mail.example.test, other.example.test, 127.0.0.1, NULL), trust (bit 6:
   root 1 only, or roots 1 and 2); byte 1: pieces (0: 256 bytes; odd:
   1..64 at random; even: 1..1024); [32 bytes of pin]; then the chain,
   each certificate as a 2-byte big-endian length and its bytes (at most
   10; the last one takes what is left when the length runs past the end).
   Invariants:
   - no crash, no read or write out of bounds, in any mode;
   - FULL and NO_HOSTNAME without a pin: end_chain returns 0 only for a
     chain whose leaf is one of the genuine certificates below that may
     pass in that mode (leaf1, leaf1d, leaf2; in NO_HOSTNAME also the CA
     certificates and the leaf without subjectAltName), followed by its
     genuine issuing path, its root among the anchors, and (FULL) the host
     among its names: the fuzzer cannot forge a signature, so a chain it
     mutated can never pass; a 1024-bit RSA leaf, a SHA-1 signature, an
     extendedKeyUsage without serverAuth, an intermediate's non-critical
     nameConstraints excluding the name, no subjectAltName (FULL) never
     pass. A certificate that carries a genuine signature over genuine
     signed bytes but differs elsewhere (the outer signatureAlgorithm, the
     encoding) must not pass either (RFC 5280 4.1.1.2: the outer algorithm
     is the signed one; DER is canonical). The genuine chains as they are
     must pass (the harness checks that success is reachable);
   - with a pin, in every mode: success implies SHA-256 of the leaf's DER
     or of its SubjectPublicKeyInfo (read here with our own DER walk)
     equals the pin; in FULL also the host name (or the IP address bytes)
     occurs in the leaf, literally or as a wildcard;
   - FULL with no host never passes;
   - after success, get_pkey gives a key of sane shape: RSA n 1..512 and
     e 1..8 bytes, EC point 1..133 bytes on curve 23, 24 or 25 (every byte
     read, so a bad pointer shows).
   FUZZ_VERBOSE=1 prints each verdict. */
#include "fuzz.h"

static const char PEM_CA1[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDJTCCAg2gAwIBAgIUV5Ay6tC91VyPUSh/SMHu0hm0ZJIwDQYJKoZIhvcNAQEL\n"
    "BQAwGTEXMBUGA1UEAwwORnV6eiBSb290IENBIDEwIBcNMjYxMjAzMTgxMDA3WhgP\n"
    "MjEyNjExMDkxODEwMDdaMBkxFzAVBgNVBAMMDkZ1enogUm9vdCBDQSAxMIIBIjAN\n"
    "BgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwlgcqqmhIDdXGWuGhoHtB/hZ9UCu\n"
    "27R4XjS0vtnOeT/u4/PbGhF1ZdemnAewXsIdgpCgSjqXeh2UMz1maXB1y2tCyUyp\n"
    "m+Cxc+1mT0I60xXRRShMeBEImKu6lJALuq6zgAewCEAzuvaL3mE3bl3vNGCSXhdJ\n"
    "24VO/KnyJ2Hwoq8SYN4LiMh5lkOrRAL4WgXqcV37K3y/iqTGf9DWQvi8h+qyOuQZ\n"
    "YKrqXQqhdd560WDujaVcrIgwPcUiUjkEjQ9dkK2MbH7ZZsvu7QhklirUBrI1IgPn\n"
    "VKOHPLNihO08fCe4aXKzsikGuFRl+Y1m31W7QpKCKgNBICiexY/98fRcgwIDAQAB\n"
    "o2MwYTAdBgNVHQ4EFgQUv9rXbPEnMrTD4SGkv+GuAi5JvbMwHwYDVR0jBBgwFoAU\n"
    "v9rXbPEnMrTD4SGkv+GuAi5JvbMwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E\n"
    "BAMCAQYwDQYJKoZIhvcNAQELBQADggEBAHud79/pdffCqRIfeol2CwijCF9bE2vb\n"
    "9jiYkiDyxH+D8TpN/dE1EFOGU9fwfxiXJjmOR0/jnhRiRWuF1GRHf5vGlVcwI9N8\n"
    "CxJmpKTzDf2SKSa0b9zfrhshFwa1BAUy3lXNTBL6x87pqH0yx30ITZSCEvWUPfoN\n"
    "c4tGKOAUR38JRrAJ799GGNxDclEzMnorKGncTMR3Dj7wOLfMYyzQLahq2c6qxRzg\n"
    "g4sIRkdwe5KCox+R+Pl8O/yNQj++kRgquuE/lJednb9OfNq6TOiRc91lxfOUrMd9\n"
    "Tvr8ZQElgyDnbeskhYZbriUd5h7VDJutf41LRgyyKY99p7lF+X1A1o8=\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_CA2[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBmTCCAT+gAwIBAgIUBW8IFEyrkcd7dpi9ozrdUlMa7xEwCgYIKoZIzj0EAwIw\n"
    "GTEXMBUGA1UEAwwORnV6eiBSb290IENBIDIwIBcNMjYxMjAzMTgxMDA3WhgPMjEy\n"
    "NjExMDkxODEwMDdaMBkxFzAVBgNVBAMMDkZ1enogUm9vdCBDQSAyMFkwEwYHKoZI\n"
    "zj0CAQYIKoZIzj0DAQcDQgAEW4E5l1zKO/bLFnSMGvtJ4QBQ8/WXq1wUrK7+8R4n\n"
    "MHZUNTlh3O1Wl6lApaDeOL5eFS5ND7BYDV0mU+lZL3uDPKNjMGEwHQYDVR0OBBYE\n"
    "FHddU5wVkO2s6IeFiMDfemNQ2FfwMB8GA1UdIwQYMBaAFHddU5wVkO2s6IeFiMDf\n"
    "emNQ2FfwMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49\n"
    "BAMCA0gAMEUCIQDMJLLpkx/M2ee+5kxd+2AsYTdSWS386Vm0IeNNfbLAvgIgBARU\n"
    "zOJ1rc/yUSZ+MNVp114yDEICypROHxmQGJLUKgE=\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_INT1[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDHjCCAgagAwIBAgIUaDcV6vN9wimiZH6KYxLtU30p4dMwDQYJKoZIhvcNAQEL\n"
    "BQAwGTEXMBUGA1UEAwwORnV6eiBSb290IENBIDEwIBcNMjYxMjAzMTgxMDA4WhgP\n"
    "MjEyNjExMDkxODEwMDhaMA8xDTALBgNVBAMMBGludDEwggEiMA0GCSqGSIb3DQEB\n"
    "AQUAA4IBDwAwggEKAoIBAQDUsYwvmM5NCUafVoZ7nIKSZOvwtJegARafQs2dJcS5\n"
    "V9oxbAC/whQ5BZuWiLEtLrIxnf77LRugPinTsQS7wPMzHitmCgIM26WdmoEbTb9S\n"
    "cE5scnrWtBY2ZJdt3eIR9IQ0umtm9irnUJsmiTyuy2Mlr9BFBbc+UfBTl2UCEzqK\n"
    "3PXqkXC5YVMJLYjFqP3hhAMqwbeAu9yhc2Xcdr3O6smO0MasibRy0H/qly+cCATi\n"
    "9wxvuAHIvYuz0LZkxQu3ZZg2DKik5szsf+UXsjcJYFfNzBJFbp1QmeL/uccnpu7O\n"
    "V/4bo3DNo6niV9q04PwlyQ/6U4jguPKeyCWRHrFc5o9DAgMBAAGjZjBkMBIGA1Ud\n"
    "EwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMB0GA1UdDgQWBBR6arZuhpTI\n"
    "vJPXVJHNoGGTD+6YXDAfBgNVHSMEGDAWgBS/2tds8ScytMPhIaS/4a4CLkm9szAN\n"
    "BgkqhkiG9w0BAQsFAAOCAQEAX16M21loIsQ+SaDqwZWh5P5yl6s8OjwKZ83Lcv+Y\n"
    "yEvaNCqjEXz0NACADiKYj4TvUyTBo+i7h82twajtwIuwPEb7yCkXaML2MoA9MoC0\n"
    "9FvBNm8wDTEKtIoA1g+S04yWKlWKExzh4yuMmXoi4lrbAuflEWsz/i8/HjWv2yh8\n"
    "QpEBHiduUtv3DIbqLEMI53LlsCrQCOchlWGKRfoc8xPvcMm367NegLmbRkYY/ht2\n"
    "mC4P6gBR5e25TKgMqt47+Z9y5QwfbvLmzcUv8l8HFK4CRqzhb8cQ8vYxnVxdTwlD\n"
    "KkjPLnjH/AT2+0F40Ffh97blo4rQBnZKRPkcucWgrrCSwA==\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_INTNC[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDPTCCAiWgAwIBAgIUaDcV6vN9wimiZH6KYxLtU30p4dUwDQYJKoZIhvcNAQEL\n"
    "BQAwGTEXMBUGA1UEAwwORnV6eiBSb290IENBIDEwIBcNMjYxMjAzMTgxMDE3WhgP\n"
    "MjEyNjExMDkxODEwMTdaMBAxDjAMBgNVBAMMBWludG5jMIIBIjANBgkqhkiG9w0B\n"
    "AQEFAAOCAQ8AMIIBCgKCAQEA8tZ37Ow1vRsFzRQRUeYB5ZvsXRUsNqeHzzdjm5Vc\n"
    "sLMKYXnvL106E8mxB3sc9QLz4XcdmDQvBGl6IuRBbLRIXgAmpSUovN3zWUo+31n7\n"
    "JytCzG4oXw5uvLGvdW8Djv1NEICBx9i4x0sfb265hXfuP6pVqr76GJL6DEb7v3TW\n"
    "mvT4BJVhvuEmYi1qYRE6lgT6uvbhkD9u4c/TCh+4InOQXWzF7467mJgX9M3r03tB\n"
    "QGluj7Uzs6EZP7IhcBEUphE4HQLEyG/H6QuqPXD3q78KCt55xtxMnSwtcEtG0UlM\n"
    "HvNJBe2ztz56tId8n9MivM7D8BTwU91arELZa2UnvWsStwIDAQABo4GDMIGAMBIG\n"
    "A1UdEwEB/wQIMAYBAf8CAQAwDgYDVR0PAQH/BAQDAgEGMBoGA1UdHgQTMBGgDzAN\n"
    "ggsub3RoZXIudGVzdDAdBgNVHQ4EFgQUIaTF+09WsJmyGNFOoM+25gMheZEwHwYD\n"
    "VR0jBBgwFoAUv9rXbPEnMrTD4SGkv+GuAi5JvbMwDQYJKoZIhvcNAQELBQADggEB\n"
    "AD9PxKdhiHqS686lGV+g7MPa5O8u/gVzOqwQtzXNdhadCesD3QBNWM6HcNWnWeDY\n"
    "PjXbSaz9Gkas21tD1EF5BRJvdlWxoao4HSmU7NBUtd3f3TOSYXrGwaEH+uE0mAH1\n"
    "qvJJyi33vpuefzHyfK8XB3dspiESYXeKgm+7VteAJZuOiHWWKv02NWooIySIIf6Y\n"
    "BZKR4h99T+k+Ile9CM3mk0ei4Gmu5XoXDgy0WzxJlRM8ox6+tMs9zjmWgxx4XsRg\n"
    "trdtFPsZU3IK8//GAaXk50pj3pHOGnxFmek2hLXiYgn5pZbups/ur3OQgkRt8B5O\n"
    "WFfg6WMYe/PFDrfMk/tqaX0=\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_LEAF1[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDPDCCAiSgAwIBAgIUTOWhIOZbRJEmSXr9gkybS1qAztcwDQYJKoZIhvcNAQEL\n"
    "BQAwDzENMAsGA1UEAwwEaW50MTAgFw0yNjEyMDMxODEwMDlaGA8yMTI2MTEwOTE4\n"
    "MTAwOVowEDEOMAwGA1UEAwwFbGVhZjEwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw\n"
    "ggEKAoIBAQC0KyDPyyoC6Pcqzn8dswHtu6xvswlaz4XIOTFtTj/aD6DpPKBb5EPu\n"
    "noJTUXQBd7vfXFC7tny6HvKyvbzuSySZIVaxW1i0BugHQVqg18DsuSepLjQEJ75Z\n"
    "BjLDYCo+YYSH6ReuXPZ9BDKHrP5qjcAlOETy9CMJE+IyPUga0QgKEoT4Ai0XhadE\n"
    "6vzy9tAKxO8zAGysTmimDHvwYJrlinlrqgZziTkm0IetYL1s4ZjrZLpKNotr7gxn\n"
    "uv7TG+2Xwz5T31b4QObNjofZUI1wOl97YvvmIRbSrl/3urqpPCZnsDKM7uuuGL/z\n"
    "epdZPujCNKSwSsAYwi4BC4nt4xVAW8AhAgMBAAGjgYwwgYkwIgYDVR0RBBswGYIR\n"
    "bWFpbC5leGFtcGxlLnRlc3SHBH8AAAEwEwYDVR0lBAwwCgYIKwYBBQUHAwEwDgYD\n"
    "VR0PAQH/BAQDAgWgMB0GA1UdDgQWBBQuJz1e4Q6ErZz0bcqq48i1q7QDLTAfBgNV\n"
    "HSMEGDAWgBR6arZuhpTIvJPXVJHNoGGTD+6YXDANBgkqhkiG9w0BAQsFAAOCAQEA\n"
    "lJ2R/mzRCBaX4LHqaqAz/qSXwDSMEBlWTGKAgqpgQUocCWAhFHtNUB7yb0yrTMp1\n"
    "+/X8g6Ut6+qo+nh4W2barmrxRfz++4CVDBWTOjlyyy8WQeuELjtdcRf6JFvPOv3y\n"
    "n1Tr0DWW7TPRhjjZ1z0bjzPeBk+tNbfOwvAU1bi7vk88N/DYJ0DiehbxoX68sFTm\n"
    "6BUCOlasslM2sxk9puGocEwhm1GZpf78pRGgMo2Zp7gO68pHjXg2+vuc3j/3/lwx\n"
    "FmkIW7iARs0YGvZ2Zgf5oBipnDE8FgNN6dkDmc8sDRSVTbhqvcGgV2yvk/U2rvvd\n"
    "kSa7/fLpUrwBTD62zAOFBQ==\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_LEAF1D[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDLzCCAhegAwIBAgIUaDcV6vN9wimiZH6KYxLtU30p4dQwDQYJKoZIhvcNAQEL\n"
    "BQAwGTEXMBUGA1UEAwwORnV6eiBSb290IENBIDEwIBcNMjYxMjAzMTgxMDExWhgP\n"
    "MjEyNjExMDkxODEwMTFaMBExDzANBgNVBAMMBmxlYWYxZDCCASIwDQYJKoZIhvcN\n"
    "AQEBBQADggEPADCCAQoCggEBAKlYRyWRa9f/nvW8wOYueNjs0QnEe7F3uWRCtbZw\n"
    "C16a46+IwI8nWeROz9dDLLBweIOVko1HGQN6t14Qe2bnV7uwoShDBGUNsI3USMo9\n"
    "6K2EXbftNFPxmGRW1ReSJbYWPpgria0t4KFwBkVmFjeGFExbRFQeLVS1kPoK4rIl\n"
    "+frBwQ00NB39PU0QFdsdNMEJjjnqKWMZ798rKI++eU/zAkeegSEeXysDx3/edXEz\n"
    "k7YT/ezK0PoX11OQfWwn+f8lyOfQCO/XvuizHgNcQtAm0sSqy+YI/aVbMPmFEvvM\n"
    "OraUVv0gzH6pSbIwgkqihpL/JRF4+AT8Rl8Sc7fcT60CpKECAwEAAaN1MHMwHAYD\n"
    "VR0RBBUwE4IRbWFpbC5leGFtcGxlLnRlc3QwEwYDVR0lBAwwCgYIKwYBBQUHAwEw\n"
    "HQYDVR0OBBYEFI5+cPWXi86ithP3lziwTr/56aFmMB8GA1UdIwQYMBaAFL/a12zx\n"
    "JzK0w+EhpL/hrgIuSb2zMA0GCSqGSIb3DQEBCwUAA4IBAQC6E/vkWs/05fYivaUz\n"
    "Fq3LM/ly+fjUOh4An1x7qVu8ONw+wZ1dT2LhW/paYuqQ5PrS6+QFKle6yPRPcg+f\n"
    "ieFR00TPDz8ph+FEac0ikWcrv1XNA2JdqIjLm6sRCCrQGkxHCn0dGc9ywNbICGZJ\n"
    "RU4I+e77UEhK4hhz42sTvLkQkofnezROLyJQev77SipNPknR1t1odetnYUI1tDYM\n"
    "ZX+vaxnFyRQ28nMNfkVx01FNvsK6rarWqHQl77k4/S8jV9SIs6raMFwn3PwhsRwS\n"
    "IxwJ5qbQQaZrxZfx0USBVhjVNApLRgNBxHk9TtVPA40eDc6NNdgAzM3288oDQNcn\n"
    "2mB+\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_LEAF2[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBqTCCAU6gAwIBAgIUOzcJ/bCB5/rvDKHszl9whe6j12AwCgYIKoZIzj0EAwIw\n"
    "GTEXMBUGA1UEAwwORnV6eiBSb290IENBIDIwIBcNMjYxMjAzMTgxMDExWhgPMjEy\n"
    "NjExMDkxODEwMTFaMBAxDjAMBgNVBAMMBWxlYWYyMFkwEwYHKoZIzj0CAQYIKoZI\n"
    "zj0DAQcDQgAEBDfE0L9IMGHcvvyblhzI3fL0XApkb1+WcH/XKQ3Ye7TiRvCsfTn9\n"
    "HXIPo/o2Dwl1kF/LIzAImAsUUn42qs1X9qN7MHkwIgYDVR0RBBswGYIRbWFpbC5l\n"
    "eGFtcGxlLnRlc3SHBH8AAAEwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHQYDVR0OBBYE\n"
    "FHWk+T5CfZWJEfgwN48NBUF4BAUxMB8GA1UdIwQYMBaAFHddU5wVkO2s6IeFiMDf\n"
    "emNQ2FfwMAoGCCqGSM49BAMCA0kAMEYCIQDiEUyg245iSlh7kXnf4js/Hm4Z92Hn\n"
    "k4EWJX6HtOgz0gIhAN2qMPjfjZELaDiv34OVMoHYHNUouFgaSsIhwtGiDWBg\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_WEAK1024[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIICozCCAYugAwIBAgIUTOWhIOZbRJEmSXr9gkybS1qAztgwDQYJKoZIhvcNAQEL\n"
    "BQAwDzENMAsGA1UEAwwEaW50MTAgFw0yNjEyMDMxODEwMTJaGA8yMTI2MTEwOTE4\n"
    "MTAxMlowEzERMA8GA1UEAwwId2VhazEwMjQwgZ8wDQYJKoZIhvcNAQEBBQADgY0A\n"
    "MIGJAoGBAMlW5AMaSG7R6PdzHe1BypoT5bU/7q9MvORsCht4NvoTWM39ACavxPnA\n"
    "n//wJ2H/mfmAlM1XbAUq6fHU58QgBAMRse0Bn6Suo+8bKpMVa9ec9SnrvtCb4B61\n"
    "6BmLHMD0vMh7xOte6H1rsu97FNLjE0HwS+6NCY131UsRd8+avWgzAgMBAAGjdTBz\n"
    "MBwGA1UdEQQVMBOCEW1haWwuZXhhbXBsZS50ZXN0MBMGA1UdJQQMMAoGCCsGAQUF\n"
    "BwMBMB0GA1UdDgQWBBRdeKGxVRA7avHOMSxDQSS+qH9TNDAfBgNVHSMEGDAWgBR6\n"
    "arZuhpTIvJPXVJHNoGGTD+6YXDANBgkqhkiG9w0BAQsFAAOCAQEAkp2Fbccg2zKx\n"
    "oRyJtc/gDZVc+GfNK90f5CTCUZF/gB4PcOVYEf4U9dHmM3BD8I79YSAeElNszZmI\n"
    "rH4Q6OnNiODdN+VqAhqUqxzs+HgQogwlqh1j8E7fgYNdwLQust7BXuBQ1Oogfrpj\n"
    "gDJVP5x7evQ+TUwlWNEIkqOxchsKzkFVALlaq0u0pJtaML67c0TwY+ruo2EPyNU4\n"
    "RBxhcuntcg89K9w3PYCuxOBzYxzTkCw+oseUvnVFdYCHpcvXwVxSRNo7Ot1SaZYz\n"
    "4tw5pOrMIh4J5I2/V+nu2HqVUAysMDjz66NuPKThy380ImvTCEM3JMMI2MS9+JQJ\n"
    "uId7CkKhkw==\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_SHA1LEAF[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDJzCCAg+gAwIBAgIUTOWhIOZbRJEmSXr9gkybS1qAztkwDQYJKoZIhvcNAQEF\n"
    "BQAwDzENMAsGA1UEAwwEaW50MTAgFw0yNjEyMDMxODEwMTRaGA8yMTI2MTEwOTE4\n"
    "MTAxNFowEzERMA8GA1UEAwwIc2hhMWxlYWYwggEiMA0GCSqGSIb3DQEBAQUAA4IB\n"
    "DwAwggEKAoIBAQDHSTrIXvJ4KPgj5dLdnWQtKBBuZlBhR7n2j7pwRLaT0w39QfSV\n"
    "gc1BNpNi1GeoAcDYJAFYkzMTxscAixwn334Dyp+w9PqgsU4FQ1Pp9UJJAwSDN8uf\n"
    "3TU3By/zB8pz6XhVQi4DHXMbwDsLgY3Zf/QxNR+B/eF/qqs1TxbRlm4KPiHC+qy2\n"
    "YVv/yHhKZDS3QfmolyZITwQ2Fck0Q3PzwWRO970GiAe+acmfcic8PMZ762gba8zY\n"
    "GniskbzBPvkEGkQcNDUJs6EbGFYugK44LYX4Vz+Xjj5gjugk0eLDSoiOKuSwnyHU\n"
    "fti86wxmErONKK8gtwYzVhrjlExL7jj5ApohAgMBAAGjdTBzMBwGA1UdEQQVMBOC\n"
    "EW1haWwuZXhhbXBsZS50ZXN0MBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQW\n"
    "BBRnzZPuH/pW0A9qiY5GUZI2YXWLBzAfBgNVHSMEGDAWgBR6arZuhpTIvJPXVJHN\n"
    "oGGTD+6YXDANBgkqhkiG9w0BAQUFAAOCAQEALozht7OaPqaLkjhJgDi9/ZUqDErd\n"
    "vNeBLEcmXnIkWojTqqVDYDu8U3zmfwyl2ByNLIewtVWgs4PiqEQ71iIL6pluRV8V\n"
    "zpKImUQwBEDz55e2m50+j7INETF30ecMTW/Og32BV7YEI8OrJp3va9d0RpZJ9rgm\n"
    "c9okNv7aNSC0xT+iuN0SKPrWA/C8wSalYL5JsP5fu2vTmH6hQLXji9rNpQLip+vr\n"
    "LToghR3fHdvSj3/d5vsgVrdM2n9Pg6tsjBGEuvZ8SR2VXpFviKnJqfhBNCP01r9D\n"
    "xc0kf035om02N0TD7aFDkpBcMi9u06dH7RmqnC8HLMgW2ySfcXOnGbsitw==\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_NOSAN[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDEjCCAfqgAwIBAgIUTOWhIOZbRJEmSXr9gkybS1qAztowDQYJKoZIhvcNAQEL\n"
    "BQAwDzENMAsGA1UEAwwEaW50MTAgFw0yNjEyMDMxODEwMTVaGA8yMTI2MTEwOTE4\n"
    "MTAxNVowHDEaMBgGA1UEAwwRbWFpbC5leGFtcGxlLnRlc3QwggEiMA0GCSqGSIb3\n"
    "DQEBAQUAA4IBDwAwggEKAoIBAQCpLH1TBzEsXj0nYHVaBKye0C2586mqJtuZ+r+8\n"
    "3RUY31M0r+SSDVNjm7gn5jabQdNfLFzzz7TLkA/kC1wIbseR1m/eBzeu1njo1JD3\n"
    "e6U1J63fFdnU7QkRnI+X7a+0Yg1Ojn5NT9AG1XsLbqjVHcLQtB3jlj5CCsHM+hv7\n"
    "rjq2ne42xaBHTeGDNJiUzAU8koeHHKFKxHJup7QokaMdYKO3480YQ5OzoZLC4irV\n"
    "qTZeHZSpRfNR6CUDjkgSGZZ08ViEByJSnURXfOMCJtHWsq8s/qufCur8Gu4lmuy5\n"
    "4q+qjHp+BqXL6k6dnL8FBvR7QIp43aNQUgAvg/YTkLQ0pHdJAgMBAAGjVzBVMBMG\n"
    "A1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQWBBQVwmAFyX/UN0SfExoW98jzXlpV\n"
    "BjAfBgNVHSMEGDAWgBR6arZuhpTIvJPXVJHNoGGTD+6YXDANBgkqhkiG9w0BAQsF\n"
    "AAOCAQEAMI+eM6g0hdp5vVPJ+5n7OZpawHeLcESAecNeV6+OCVVBkVfk1hkKkFkt\n"
    "YQYyTXtxa2+2buRjFE82hWTgRUb689Y27lEuo1IlntJUGH2qlXBvLLTZ+0UaIfPg\n"
    "n51k3Q24iLyPnGJ1GJIdit24S7HD0sVahbJcU0M39nw5YPcoNp4pCBsRI30XwqrG\n"
    "LUKWimkb/cWoxug8+xYubiKfr1Ghk7QzAIh3Gi0KDpzMH4DZ5exS/Taf06RTCxqw\n"
    "LLPkI7eonjfq9fMu8yejugK9kOF06NUIOy7OXH/7bM7aUH3aAil5i586INnwgWJf\n"
    "btnDJ45aI3nIPF+423ALWtT9xgjv8w==\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_CLIENTONLY[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDKTCCAhGgAwIBAgIUTOWhIOZbRJEmSXr9gkybS1qAztswDQYJKoZIhvcNAQEL\n"
    "BQAwDzENMAsGA1UEAwwEaW50MTAgFw0yNjEyMDMxODEwMTZaGA8yMTI2MTEwOTE4\n"
    "MTAxNlowFTETMBEGA1UEAwwKY2xpZW50b25seTCCASIwDQYJKoZIhvcNAQEBBQAD\n"
    "ggEPADCCAQoCggEBAJq7nzcJydFxpo4GnHvl8NXQD3h/PwjtpofiaYw1xa95008D\n"
    "NvKd+caV2iAxUffv6YQGFYlW8w0lCM0Qm2GLloz1ar4mTkzDgUmygNrRs14lg/KO\n"
    "mvUwEQyzLnOLnWLx6PaA7zFKZdDt3aKTtvtrkWDrWZoXj60C0a4bosKTrMTX0D50\n"
    "DeJerAP47i26jmOEYYhACOwh/gAs2CA1hh2mvhD5+O5jX8R3pa7FpxbT9c2727iQ\n"
    "FwgEZPov/1FYhFSRpQ26vOapbm0MjcfX38f1n+jWz2FPQCdHzP38NqMQ9y+24joJ\n"
    "+uY4RTYX3k8QXSvezIL9Uz2jYvJeIpJmRZQNIMcCAwEAAaN1MHMwHAYDVR0RBBUw\n"
    "E4IRbWFpbC5leGFtcGxlLnRlc3QwEwYDVR0lBAwwCgYIKwYBBQUHAwIwHQYDVR0O\n"
    "BBYEFLxgj3xk4qBnOOhKjmsLFgsQRJegMB8GA1UdIwQYMBaAFHpqtm6GlMi8k9dU\n"
    "kc2gYZMP7phcMA0GCSqGSIb3DQEBCwUAA4IBAQADLs/WnwyBzkN18vmrCODRMe/C\n"
    "6YT3FIIZd0CEa4V0fpLTFKB/GVtdp+1GPb4TaSafvTycPef+oY+4haPaAt3rC+J+\n"
    "JxK/8wGeMm2qiNSNuuc6R3tNYY4w+/ErZBrbRKaDgz7lt94JEz7NTB27yiDESVXc\n"
    "FeXB+qnjY4rSwuXcc6TdCsjfsaGshufVy5TsY3wbYXKCjvPg4ZPQLsGau+exGdp9\n"
    "/1UlFiADr+SkxRyZ5OS7Wzhp4MP9+xMsCIIcRfN7bep/UmJnW/WfZX+u4o01C31z\n"
    "niGIAYXz8Pat4oqV2Gj9m/iVmA4pSrCXC7HTF658KCo9W73I5CJNsPcflwju\n"
    "-----END CERTIFICATE-----\n";
static const char PEM_NCLEAF[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDJjCCAg6gAwIBAgIUaOUfSOvRVW93wzZB/Iuv3l5aPiUwDQYJKoZIhvcNAQEL\n"
    "BQAwEDEOMAwGA1UEAwwFaW50bmMwIBcNMjYxMjAzMTgxMDE4WhgPMjEyNjExMDkx\n"
    "ODEwMThaMBExDzANBgNVBAMMBm5jbGVhZjCCASIwDQYJKoZIhvcNAQEBBQADggEP\n"
    "ADCCAQoCggEBALLyUixRXliGJHrHQLLAvY64S7lxRRvSjgmm7CzLNL3FRwzNmarC\n"
    "TpCD18xd18fvZ7wtY1FP34XaIdxs790n5U/wiltBKNtlilzAnXSCUCXwORI7TUEk\n"
    "xKl78lkrUAm1JEdTozibtUBzQ9bRcKArrtypYgUvcsoWUdvVtOeFul3d7XJSsgk6\n"
    "UATMn0ifNThipP/EapmqeIWeUrvICMDaBsXPO6xBcvdwRmOUkq9P8FZPQ6EAlfJM\n"
    "St9j0/v5s4rbM9BVCpxUT6DA5YwmnW0PBM/uTSiehp5hD3G3K/HV2XPBSe83VJp1\n"
    "GrGrdUiv78Pm3ImZOMGlXspIwqDYljGGFQsCAwEAAaN1MHMwHAYDVR0RBBUwE4IR\n"
    "bWFpbC5leGFtcGxlLnRlc3QwEwYDVR0lBAwwCgYIKwYBBQUHAwEwHQYDVR0OBBYE\n"
    "FOQfvQJOSm6sEZMRFdVpoEoFd0TGMB8GA1UdIwQYMBaAFCGkxftPVrCZshjRTqDP\n"
    "tuYDIXmRMA0GCSqGSIb3DQEBCwUAA4IBAQC7hxpYPEkPHWw/RS+mdw15MT15jCD7\n"
    "VRz4kYZviI3+xSX5hW1McDi+XYG4Fah03l+G8/lrjFBcZ1UEkqpsNaYStxME4lBC\n"
    "SbDfIjfsz4HNt6cnI1wpTyg22w66zdY18eXerDOfaLfcyikhSGkgpiDIPu2f38l5\n"
    "xGizhrjwkVju+CHUH56WBxhSjgyArI3tO6HOUKhssi20ysPZ1mt0ze5CnfgXKkd9\n"
    "4FVFkmai7tqdfWQO4E9WCt6xHNWjXfrb3lLao0rhftXISbf/9Yqs8GSmH+YkBf+O\n"
    "V/B9TUQD1NDHIDKS+VkGT3jCBCU0c/JYe7ug7wpPhdNdZ/4UT4Iuzj2E\n"
    "-----END CERTIFICATE-----\n";

/* ---- the genuine certificates ---- */
enum { CA1, CA2, INT1, INTNC, LEAF1, LEAF1D, LEAF2, WEAK1024, SHA1LEAF, NOSAN, CLIENTONLY, NCLEAF, NCERT };
static const char *const PEMS[NCERT] = { PEM_CA1, PEM_CA2, PEM_INT1, PEM_INTNC, PEM_LEAF1, PEM_LEAF1D, PEM_LEAF2,
                                         PEM_WEAK1024, PEM_SHA1LEAF, PEM_NOSAN, PEM_CLIENTONLY, PEM_NCLEAF };
static unsigned char *DER[NCERT];
static size_t DERN[NCERT];

/* What may pass, without a pin: the leaf, its issuing path after it,
   its root, the names FULL accepts (NULL: none), and in which modes. */
static const struct may {
    int leaf, path[2], npath, root;
    const char *names[2];
    int full, nohost;
} MAY[] = {
    { LEAF1, { INT1 }, 1, CA1, { "mail.example.test", "127.0.0.1" }, 1, 1 },
    { LEAF1D, { 0 }, 0, CA1, { "mail.example.test", NULL }, 1, 1 },
    { LEAF2, { 0 }, 0, CA2, { "mail.example.test", "127.0.0.1" }, 1, 1 },
    { NOSAN, { INT1 }, 1, CA1, { NULL, NULL }, 0, 1 },
    { INT1, { 0 }, 0, CA1, { NULL, NULL }, 0, 1 },
    { INTNC, { 0 }, 0, CA1, { NULL, NULL }, 0, 1 },
    { CA1, { 0 }, 0, CA1, { NULL, NULL }, 0, 1 },
    { CA2, { 0 }, 0, CA2, { NULL, NULL }, 0, 1 },
};

static int b64v(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* the DER inside one PEM block, decoded here (not by the library) */
static void pem_der(const char *pem, unsigned char **out, size_t *n)
{
    const char *p = strstr(pem, "-----\n") + 6, *e = strstr(p, "-----END");
    unsigned acc = 0;
    int bits = 0;
    *out = (unsigned char *)malloc((size_t)(e - p));
    *n = 0;
    FCHECK(*out != NULL);
    for (; p < e; p++) {
        int v = b64v(*p);
        if (v < 0) continue;
        acc = acc << 6 | (unsigned)v; bits += 6;
        if (bits >= 8) { bits -= 8; (*out)[(*n)++] = (unsigned char)(acc >> bits); }
    }
}

/* ---- a DER walk of our own: the leaf's SubjectPublicKeyInfo ---- */
static int tlv(const unsigned char *p, size_t n, unsigned *tag, size_t *hl, size_t *len)
{
    size_t l, i, k;
    if (n < 2) return -1;
    *tag = p[0];
    if ((p[0] & 0x1f) == 0x1f) return -1;
    if (p[1] < 0x80) { l = p[1]; *hl = 2; }
    else {
        k = p[1] & 0x7f;
        if (k == 0 || k > 4 || n < 2 + k) return -1;
        for (l = 0, i = 0; i < k; i++) l = l << 8 | p[2 + i];
        *hl = 2 + k;
    }
    if (l > n - *hl) return -1;
    *len = l;
    return 0;
}

/* the SPKI (with its header) of certificate c[0..n), or -1 */
static int spki_of(const unsigned char *c, size_t n, const unsigned char **sp, size_t *sn)
{
    unsigned tag;
    size_t hl, len, i;
    const unsigned char *p, *e;
    if (tlv(c, n, &tag, &hl, &len) || tag != 0x30) return -1;
    p = c + hl; e = p + len;
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len) || tag != 0x30) return -1;   /* tbsCertificate */
    e = p + hl + len; p += hl;
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len)) return -1;
    if (tag == 0xA0) { p += hl + len; }                                       /* version */
    for (i = 0; i < 5; i++) {   /* serial, signature, issuer, validity, subject */
        if (tlv(p, (size_t)(e - p), &tag, &hl, &len)) return -1;
        p += hl + len;
    }
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len) || tag != 0x30) return -1;
    *sp = p; *sn = hl + len;
    return 0;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    br_sha256_context c;
    br_sha256_init(&c);
    br_sha256_update(&c, p, n);
    br_sha256_out(&c, out);
}

static int contains(const unsigned char *h, size_t hn, const void *needle, size_t nn)
{
    return nn && hn >= nn && memmem(h, hn, needle, nn) != NULL;
}

/* ---- the trust anchors, through the library's own loader ---- */
static smtp_trust *TRUST1, *TRUST12;

static void setup(void)
{
    char detail[256], *both;
    size_t i;
    if (TRUST1) return;
    for (i = 0; i < NCERT; i++) pem_der(PEMS[i], &DER[i], &DERN[i]);
    FCHECK(smtp_trust_load_pem(&TRUST1, PEM_CA1, strlen(PEM_CA1), detail, sizeof detail) == SMTP_OK);
    both = (char *)malloc(strlen(PEM_CA1) + strlen(PEM_CA2) + 1);
    FCHECK(both != NULL);
    strcpy(both, PEM_CA1); strcat(both, PEM_CA2);
    FCHECK(smtp_trust_load_pem(&TRUST12, both, strlen(both), detail, sizeof detail) == SMTP_OK);
    free(both);
    FCHECK(TRUST1->n == 1 && TRUST12->n == 2);
}

static int genuine(const unsigned char *c, size_t n, int which)
{
    return n == DERN[which] && !memcmp(c, DER[which], n);
}

/* The signed part of a certificate: its tbsCertificate (TLV) and the
   signature's bits; -1 when c[0..n) does not have that shape. */
static int signed_parts(const unsigned char *c, size_t n, const unsigned char **tbs, size_t *tn,
                        const unsigned char **sig, size_t *sn)
{
    unsigned tag;
    size_t hl, len;
    const unsigned char *p, *e;
    if (tlv(c, n, &tag, &hl, &len) || tag != 0x30) return -1;
    p = c + hl; e = p + len;
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len) || tag != 0x30) return -1;
    *tbs = p; *tn = hl + len; p += hl + len;
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len)) return -1;   /* signatureAlgorithm */
    p += hl + len;
    if (tlv(p, (size_t)(e - p), &tag, &hl, &len) || tag != 0x03 || len < 1) return -1;
    *sig = p + hl + 1; *sn = len - 1;
    return 0;
}

/* c carries the signature and the signed bytes of genuine certificate
   which (what the fuzzer cannot forge), whatever else it changed */
static int signed_as(const unsigned char *c, size_t n, int which)
{
    const unsigned char *t1, *s1, *t2, *s2;
    size_t tn1, sn1, tn2, sn2;
    if (genuine(c, n, which)) return 1;
    if (signed_parts(c, n, &t1, &tn1, &s1, &sn1) || signed_parts(DER[which], DERN[which], &t2, &tn2, &s2, &sn2))
        return 0;
    return tn1 == tn2 && sn1 == sn2 && !memcmp(t1, t2, tn1) && !memcmp(s1, s2, sn1);
}

#define MAXC 10
static smtp__x509 X;

/* smtp_tls_peer_cert's description: every string ends inside its buffer
   and holds no control byte (certificate bytes went through
   smtp__visible); when filled, it describes the leaf that was sent. */
static void check_str(const char *p, size_t cap)
{
    const char *e = (const char *)memchr(p, 0, cap);
    FCHECK(e != NULL);
    for (; p < e; p++) FCHECK((unsigned char)*p >= 0x20 && *p != 0x7F);
}

static void check_peer(const smtp_peer_cert *pc, const unsigned char *leaf, size_t n, int nc)
{
    unsigned char h[32];
    check_str(pc->subject, sizeof pc->subject);
    check_str(pc->issuer, sizeof pc->issuer);
    check_str(pc->not_before, sizeof pc->not_before);
    check_str(pc->not_after, sizeof pc->not_after);
    check_str(pc->names, sizeof pc->names);
    check_str(pc->key, sizeof pc->key);
    FCHECK(pc->chain_length == nc);
    if (pc->key[0]) {   /* filled: the leaf parsed */
        FCHECK(leaf != NULL && n <= SMTP_CERT_MAX);
        sha256(leaf, n, h);
        FCHECK(!memcmp(h, pc->sha256, 32));
        FCHECK(strlen(pc->not_before) == 23 || !strcmp(pc->not_before, "?"));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const hosts[4] = { "mail.example.test", "other.example.test", "127.0.0.1", NULL };
    const unsigned char *cert[MAXC];
    size_t clen[MAXC], pos = 2, i;
    int nc = 0, verify, pinsrc, two, pieces;
    unsigned char pin[32], h[32];
    const char *host;
    const br_x509_class **vt;
    unsigned err, usages = 0;
    uint32_t rs;
    if (size < 2) return 0;
    setup();
    verify = data[0] & 3;
    if (verify == 3) verify = SMTP_VERIFY_FULL;
    pinsrc = (data[0] >> 2) & 3;
    host = hosts[(data[0] >> 4) & 3];
    two = (data[0] >> 6) & 1;
    pieces = data[1];
    rs = data[1] * 2654435761u + (uint32_t)size;
    if (pinsrc == 1) sha256(DER[LEAF1], DERN[LEAF1], pin);
    else if (pinsrc == 2) {
        const unsigned char *sp;
        size_t sn;
        FCHECK(spki_of(DER[LEAF1], DERN[LEAF1], &sp, &sn) == 0);
        sha256(sp, sn, pin);
    } else if (pinsrc == 3) {
        if (size < pos + 32) return 0;
        memcpy(pin, data + pos, 32);
        pos += 32;
    }
    while (pos + 2 <= size && nc < MAXC) {
        size_t l = (size_t)data[pos] << 8 | data[pos + 1];
        pos += 2;
        if (l > size - pos) l = size - pos;
        cert[nc] = data + pos; clen[nc] = l; nc++;
        pos += l;
    }

    smtp__x509_init(&X, two ? TRUST12->ta : TRUST1->ta, two ? 2 : 1, verify, host, pinsrc ? pin : NULL);
    br_x509_minimal_set_time(&X.minimal, 740498, 0);   /* 2027-06-01 */
    vt = &X.vtable;
    (*vt)->start_chain(vt, host);
    for (i = 0; i < (size_t)nc; i++) {
        size_t off = 0;
        (*vt)->start_cert(vt, (uint32_t)clen[i]);
        while (off < clen[i]) {
            size_t k = pieces == 0 ? 256 : 1 + fuzz_rng(&rs) % ((pieces & 1) ? 64 : 1024);
            unsigned char *piece;
            if (k > clen[i] - off) k = clen[i] - off;
            piece = (unsigned char *)malloc(k);   /* exact, so a read past it shows */
            FCHECK(piece != NULL);
            memcpy(piece, cert[i] + off, k);
            (*vt)->append(vt, piece, k);
            free(piece);
            off += k;
        }
        (*vt)->end_cert(vt);
    }
    err = (*vt)->end_chain(vt);
    check_peer(&X.peer, nc ? cert[0] : NULL, nc ? clen[0] : 0, nc);
    if (nc) {   /* the describer alone, on the same bytes: the same result */
        smtp_peer_cert alone;
        if (smtp__peer_describe(&alone, cert[0], clen[0]) == 0 && clen[0] <= SMTP_CERT_MAX) {
            alone.chain_length = X.peer.chain_length;
            FCHECK(!memcmp(&alone, &X.peer, sizeof alone));
        }
    }
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "x509: %d certificates, verify %d, pin %d, host %s, %d roots: end_chain %u\n", nc, verify,
                pinsrc, host ? host : "(none)", two ? 2 : 1, err);

    if (err == 0) {
        const br_x509_pkey *pk = (*vt)->get_pkey(vt, &usages);
        unsigned sum = 0;
        FCHECK(nc > 0);
        FCHECK(pk != NULL);
        if (pk->key_type == BR_KEYTYPE_RSA) {
            FCHECK(pk->key.rsa.nlen >= 1 && pk->key.rsa.nlen <= 512 && pk->key.rsa.elen >= 1 && pk->key.rsa.elen <= 8);
            for (i = 0; i < pk->key.rsa.nlen; i++) sum += pk->key.rsa.n[i];
            for (i = 0; i < pk->key.rsa.elen; i++) sum += pk->key.rsa.e[i];
        } else {
            FCHECK(pk->key_type == BR_KEYTYPE_EC);
            FCHECK(pk->key.ec.qlen >= 1 && pk->key.ec.qlen <= 133);
            FCHECK(pk->key.ec.curve == BR_EC_secp256r1 || pk->key.ec.curve == BR_EC_secp384r1 ||
                   pk->key.ec.curve == BR_EC_secp521r1);
            for (i = 0; i < pk->key.ec.qlen; i++) sum += pk->key.ec.q[i];
        }
        (void)sum;
        if (verify == SMTP_VERIFY_FULL) FCHECK(host != NULL);
        if (pinsrc) {
            /* the pin is what let it through: the leaf's DER or its SPKI */
            const unsigned char *sp;
            size_t sn;
            int ok;
            sha256(cert[0], clen[0], h);
            ok = !memcmp(h, pin, 32);
            if (!ok && spki_of(cert[0], clen[0], &sp, &sn) == 0) { sha256(sp, sn, h); ok = !memcmp(h, pin, 32); }
            if (!ok) fprintf(stderr, "x509: passed with a pin that matches neither the leaf nor its key\n");
            FCHECK(ok);
            if (verify == SMTP_VERIFY_FULL) {
                unsigned char ip[4] = { 127, 0, 0, 1 };
                const char *dot = strchr(host, '.');
                char wild[64];
                snprintf(wild, sizeof wild, "*%s", dot ? dot : "");
                ok = !strcmp(host, "127.0.0.1") ? contains(cert[0], clen[0], ip, 4)
                   : contains(cert[0], clen[0], host, strlen(host)) || (dot && contains(cert[0], clen[0], wild, strlen(wild)));
                if (!ok) fprintf(stderr, "x509: FULL passed for %s, which the leaf does not name\n", host);
                FCHECK(ok);
            }
        } else if (verify != SMTP_VERIFY_NONE) {
            /* without a pin only genuine chains that may pass, as they are */
            size_t k, j;
            int ok = 0;
            for (k = 0; k < sizeof MAY / sizeof *MAY && !ok; k++) {
                const struct may *m = &MAY[k];
                if (!signed_as(cert[0], clen[0], m->leaf)) continue;
                if (verify == SMTP_VERIFY_FULL ? !m->full : !m->nohost) continue;
                if (m->root == CA2 && !two) continue;
                if ((size_t)nc < 1 + (size_t)m->npath) continue;
                for (j = 0; j < (size_t)m->npath; j++) if (!signed_as(cert[1 + j], clen[1 + j], m->path[j])) break;
                if (j < (size_t)m->npath) continue;
                if (verify == SMTP_VERIFY_FULL &&
                    !((m->names[0] && !strcmp(m->names[0], host)) || (m->names[1] && !strcmp(m->names[1], host))))
                    continue;
                ok = 1;
                /* and nothing outside the signature changed either: the outer
                   signatureAlgorithm equals the signed one, DER is canonical
                   (RFC 5280 4.1.1.2); a relaxed reader there is a malleability */
                if (!genuine(cert[0], clen[0], m->leaf)) ok = 2;
                for (j = 0; j < (size_t)m->npath; j++) if (!genuine(cert[1 + j], clen[1 + j], m->path[j])) ok = 2;
            }
            if (ok == 2) {
                fprintf(stderr, "x509: a certificate whose unsigned bytes were changed (outer signatureAlgorithm, "
                        "encoding) passed in %s\n", verify == SMTP_VERIFY_FULL ? "FULL" : "NO_HOSTNAME");
                FCHECK(ok == 1);
            }
            if (!ok) {
                fprintf(stderr, "x509: a chain of %d certificates passed in %s that must not (leaf %zu bytes)\n", nc,
                        verify == SMTP_VERIFY_FULL ? "FULL" : "NO_HOSTNAME", clen[0]);
                for (k = 0; k < NCERT; k++) if (genuine(cert[0], clen[0], (int)k)) fprintf(stderr, "x509: the leaf is genuine #%zu\n", k);
            }
            FCHECK(ok);
        }
    } else if (!pinsrc && verify != SMTP_VERIFY_NONE) {
        /* success must be reachable: the genuine chains as they are pass */
        size_t k, j;
        for (k = 0; k < sizeof MAY / sizeof *MAY; k++) {
            const struct may *m = &MAY[k];
            if (m->leaf != LEAF1 && m->leaf != LEAF1D && m->leaf != LEAF2) continue;
            if ((size_t)nc != 1 + (size_t)m->npath || !genuine(cert[0], clen[0], m->leaf)) continue;
            for (j = 0; j < (size_t)m->npath; j++) if (!genuine(cert[1 + j], clen[1 + j], m->path[j])) break;
            if (j < (size_t)m->npath || (m->root == CA2 && !two)) continue;
            if (verify == SMTP_VERIFY_FULL && !(host && ((m->names[0] && !strcmp(m->names[0], host)) ||
                                                         (m->names[1] && !strcmp(m->names[1], host)))))
                continue;
            fprintf(stderr, "x509: the genuine chain of leaf #%d was refused: %u\n", m->leaf, err);
            FCHECK(0);
        }
    }
    return 0;
}
