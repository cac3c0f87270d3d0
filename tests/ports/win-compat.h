/* win-compat.h - force-included (-include) into the unit tests' mingw-w64
   build only: the POSIX and GNU calls the tests themselves use (not
   smtp.h), for Windows. memmem is a GNU extension; getpid, chmod and
   unlink come from <process.h> and <io.h>. Files are opened in binary
   mode, as on POSIX (write_conf's text is written as given; CRLF files
   have a test of their own). */
#ifndef PORTS_WIN_COMPAT_H
#define PORTS_WIN_COMPAT_H
#ifdef _WIN32
#include <string.h>
#include <process.h>
#include <io.h>
__attribute__((unused)) static void *ports_memmem(const void *h, size_t hn, const void *n, size_t nn)
{
    const unsigned char *hp = (const unsigned char *)h;
    size_t i;
    if (nn == 0) return (void *)h;
    for (i = 0; i + nn <= hn; i++)
        if (hp[i] == *(const unsigned char *)n && memcmp(hp + i, n, nn) == 0) return (void *)(hp + i);
    return NULL;
}
#define memmem ports_memmem
#include <fcntl.h>
#include <stdlib.h>
__attribute__((constructor)) static void ports_binary_files(void) { _fmode = _O_BINARY; }
#endif
#endif
