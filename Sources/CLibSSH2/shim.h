#include <libssh2.h>
#include <libssh2_sftp.h>

#if __has_include(<openssl/crypto.h>)
#include <openssl/crypto.h>
/* libssh2's OpenSSL backend: keep OpenSSL from tearing itself down in an
   atexit handler while a connection thread may still be inside it. */
static inline void swiftfab_keep_crypto_until_exit(void) {
    OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
#else
static inline void swiftfab_keep_crypto_until_exit(void) {}
#endif
