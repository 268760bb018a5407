/* A stand-in for Windows' bcryptprimitives.dll, for Wine 8 only.
 *
 * Rust's Windows standard library (1.78 and later) imports ProcessPrng from
 * bcryptprimitives.dll for its random numbers; Wine 8 (Debian 12's wine64)
 * has no such DLL, so every Rust program stops at load with c0000135. This
 * DLL exports that one function over advapi32's SystemFunction036
 * (RtlGenRandom), which Wine has. ci/test and the Wine tests build it with
 * the mingw compiler and put it in the throw-away prefix's system32; it is
 * never shipped, nor needed on Windows.
 *
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll \
 *       bcryptprimitives.c -ladvapi32
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a ULONG length: fill larger requests in parts. */
    while (length > 0) {
        ULONG part = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, part))
            return FALSE;
        data += part;
        length -= part;
    }
    return TRUE;
}
