/* Test harness only, never shipped: Wine 8.0 lacks ProcessPrng (bcryptprimitives.dll), which
 * Rust's standard library imports on Windows for randomness; Windows 10 / Server 2016 and later
 * have it. Placed beside the .exe under test, this lets it load under Wine. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size) {
    return RtlGenRandom(data, (ULONG)size);
}
