/*
 * Stand-in libWeWorkFinanceSdk_C.so for tests and demos. Self-contained C (no libcurl, no
 * OpenSSL) so any machine with a C compiler can build it:
 *   - GetChatData / GetMediaData POST JSON to the Vigil emulator over a plain socket (HTTP/1.0);
 *     the emulator answers with header x-sdk-ret (the SDK return code) and the Slice / chunk body.
 *   - DecryptData implements the emulator's documented scheme: AES-256-CBC with
 *     key = SHA-256(encrypt_key), IV = key[0..16), PKCS#7; and raises SIGSEGV when the plaintext
 *     starts with the crash marker, to imitate the vendor library's known crash.
 * proxy/passwd are accepted and ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include "WeWorkFinanceSdk_C.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

#define CRASH_MARKER "VIGIL-EMULATOR-SIGSEGV"

struct WeWorkFinanceSdk_t {
    char* corpid;
    char* secret;
};

/* ---------------------------------------------------------------- SHA-256 */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR32(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const uint8_t* p) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = ((uint32_t)p[4 * i] << 24) | ((uint32_t)p[4 * i + 1] << 16) | ((uint32_t)p[4 * i + 2] << 8) |
               (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR32(w[i - 15], 7) ^ ROR32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR32(w[i - 2], 17) ^ ROR32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t S1 = ROR32(e, 6) ^ ROR32(e, 11) ^ ROR32(e, 25);
        uint32_t ch = (e & f) ^ (~e & g);
        uint32_t t1 = k + S1 + ch + K256[i] + w[i];
        uint32_t S0 = ROR32(a, 2) ^ ROR32(a, 13) ^ ROR32(a, 22);
        uint32_t mj = (a & b) ^ (a & c) ^ (b & c);
        uint32_t t2 = S0 + mj;
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256(const uint8_t* data, size_t len, uint8_t out[32]) {
    uint32_t h[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    uint8_t block[64];
    size_t i = 0;
    for (; i + 64 <= len; i += 64) sha256_block(h, data + i);
    size_t rest = len - i;
    memset(block, 0, 64);
    memcpy(block, data + i, rest);
    block[rest] = 0x80;
    if (rest >= 56) {
        sha256_block(h, block);
        memset(block, 0, 64);
    }
    uint64_t bits = (uint64_t)len * 8;
    for (int j = 0; j < 8; j++) block[63 - j] = (uint8_t)(bits >> (8 * j));
    sha256_block(h, block);
    for (int j = 0; j < 8; j++) {
        out[4 * j] = (uint8_t)(h[j] >> 24);
        out[4 * j + 1] = (uint8_t)(h[j] >> 16);
        out[4 * j + 2] = (uint8_t)(h[j] >> 8);
        out[4 * j + 3] = (uint8_t)h[j];
    }
}

/* ---------------------------------------------------------------- AES-256 (decrypt only) */

/* Table-driven AES (the "equivalent inverse cipher" of FIPS-197 §5.3.5), as fast as a portable
 * C implementation gets: the vendor library decrypts with OpenSSL, and a byte-wise stand-in
 * would make the SDK child, not Vigil, the bottleneck of every ingest measurement. */

static uint8_t sbox[256], inv_sbox[256];
/* Td0[x] = InvSubBytes then InvMixColumns of a column holding x in row 0 (bytes 0e 09 0d 0b · Si[x]). */
static uint32_t Td0[256], Td1[256], Td2[256], Td3[256];

#define ROTL8(x, s) ((uint8_t)(((x) << (s)) | ((x) >> (8 - (s)))))
#define ROR8(w) (((w) >> 8) | ((w) << 24))

static uint8_t gmul(uint8_t a, uint8_t b) {
    uint8_t r = 0;
    while (b) {
        if (b & 1) r ^= a;
        a = (uint8_t)((a << 1) ^ ((a & 0x80) ? 0x1B : 0));
        b >>= 1;
    }
    return r;
}

/* S-box computed from GF(2^8) inverses and the affine map, instead of a typed-in table. */
__attribute__((constructor)) static void aes_init_tables(void) {
    uint8_t p = 1, q = 1;
    do {
        p = (uint8_t)(p ^ (p << 1) ^ ((p & 0x80) ? 0x1B : 0));
        q ^= (uint8_t)(q << 1);
        q ^= (uint8_t)(q << 2);
        q ^= (uint8_t)(q << 4);
        if (q & 0x80) q ^= 0x09;
        uint8_t x = (uint8_t)(q ^ ROTL8(q, 1) ^ ROTL8(q, 2) ^ ROTL8(q, 3) ^ ROTL8(q, 4));
        sbox[p] = (uint8_t)(x ^ 0x63);
    } while (p != 1);
    sbox[0] = 0x63;
    for (int i = 0; i < 256; i++) inv_sbox[sbox[i]] = (uint8_t)i;
    for (int i = 0; i < 256; i++) {
        uint8_t s = inv_sbox[i];
        Td0[i] = ((uint32_t)gmul(s, 14) << 24) | ((uint32_t)gmul(s, 9) << 16) |
                 ((uint32_t)gmul(s, 13) << 8) | gmul(s, 11);
        Td1[i] = ROR8(Td0[i]);
        Td2[i] = ROR8(Td1[i]);
        Td3[i] = ROR8(Td2[i]);
    }
}

static uint32_t load_be32(const uint8_t* b) {
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static void store_be32(uint8_t* b, uint32_t w) {
    b[0] = (uint8_t)(w >> 24);
    b[1] = (uint8_t)(w >> 16);
    b[2] = (uint8_t)(w >> 8);
    b[3] = (uint8_t)w;
}

/* The decryption key schedule: encryption round keys in reverse order, with InvMixColumns
 * applied to the inner ones (so each round is four table lookups per column). */
static void aes256_expand_decrypt(const uint8_t key[32], uint32_t dk[60]) {
    static const uint8_t rcon[8] = {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40};
    uint8_t rk[240];
    memcpy(rk, key, 32);
    for (int i = 8; i < 60; i++) {
        uint8_t t[4];
        memcpy(t, rk + 4 * (i - 1), 4);
        if (i % 8 == 0) {
            uint8_t u = t[0];
            t[0] = (uint8_t)(sbox[t[1]] ^ rcon[i / 8]);
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[u];
        } else if (i % 8 == 4) {
            for (int j = 0; j < 4; j++) t[j] = sbox[t[j]];
        }
        for (int j = 0; j < 4; j++) rk[4 * i + j] = (uint8_t)(rk[4 * (i - 8) + j] ^ t[j]);
    }
    for (int round = 0; round <= 14; round++)
        for (int c = 0; c < 4; c++) {
            uint32_t w = load_be32(rk + 16 * (14 - round) + 4 * c);
            if (round > 0 && round < 14)
                w = Td0[sbox[w >> 24]] ^ Td1[sbox[(w >> 16) & 0xff]] ^ Td2[sbox[(w >> 8) & 0xff]] ^
                    Td3[sbox[w & 0xff]];
            dk[4 * round + c] = w;
        }
}

static void aes256_decrypt_block(const uint32_t dk[60], const uint8_t in[16], uint8_t out[16]) {
    uint32_t s0 = load_be32(in) ^ dk[0], s1 = load_be32(in + 4) ^ dk[1];
    uint32_t s2 = load_be32(in + 8) ^ dk[2], s3 = load_be32(in + 12) ^ dk[3];
    for (int round = 1; round < 14; round++) {
        const uint32_t* k = dk + 4 * round;
        uint32_t t0 = Td0[s0 >> 24] ^ Td1[(s3 >> 16) & 0xff] ^ Td2[(s2 >> 8) & 0xff] ^ Td3[s1 & 0xff] ^ k[0];
        uint32_t t1 = Td0[s1 >> 24] ^ Td1[(s0 >> 16) & 0xff] ^ Td2[(s3 >> 8) & 0xff] ^ Td3[s2 & 0xff] ^ k[1];
        uint32_t t2 = Td0[s2 >> 24] ^ Td1[(s1 >> 16) & 0xff] ^ Td2[(s0 >> 8) & 0xff] ^ Td3[s3 & 0xff] ^ k[2];
        uint32_t t3 = Td0[s3 >> 24] ^ Td1[(s2 >> 16) & 0xff] ^ Td2[(s1 >> 8) & 0xff] ^ Td3[s0 & 0xff] ^ k[3];
        s0 = t0, s1 = t1, s2 = t2, s3 = t3;
    }
    /* Last round: InvShiftRows and InvSubBytes only. */
    const uint32_t* k = dk + 56;
    const uint32_t s[4] = {s0, s1, s2, s3};
    for (int c = 0; c < 4; c++) {
        uint32_t w = ((uint32_t)inv_sbox[s[c] >> 24] << 24) |
                     ((uint32_t)inv_sbox[(s[(c + 3) % 4] >> 16) & 0xff] << 16) |
                     ((uint32_t)inv_sbox[(s[(c + 2) % 4] >> 8) & 0xff] << 8) |
                     inv_sbox[s[(c + 1) % 4] & 0xff];
        store_be32(out + 4 * c, w ^ k[c]);
    }
}

/* ---------------------------------------------------------------- base64 */

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Decodes standard base64; returns malloc'd bytes or NULL when malformed. */
static uint8_t* b64decode(const char* in, size_t* outlen) {
    size_t n = strlen(in);
    if (n % 4 != 0) return NULL;
    uint8_t* out = malloc(n / 4 * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        for (int j = 0; j < 4; j++) {
            char c = in[i + j];
            if (c == '=' && i + 4 == n && j >= 2) v[j] = -2;
            else v[j] = b64val((unsigned char)c);
            if (v[j] == -1 || (v[j] == -2 && j == 2 && in[i + 3] != '=')) {
                free(out);
                return NULL;
            }
        }
        out[o++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
        if (v[2] >= 0) out[o++] = (uint8_t)(((v[1] & 15) << 4) | (v[2] >> 2));
        if (v[3] >= 0) out[o++] = (uint8_t)(((v[2] & 3) << 6) | v[3]);
    }
    *outlen = o;
    return out;
}

/* ---------------------------------------------------------------- slices */

static void slice_set(Slice_t* s, const char* data, size_t len) {
    if (!s) return;
    free(s->buf);
    s->buf = malloc(len + 1);
    if (!s->buf) {
        s->len = 0;
        return;
    }
    memcpy(s->buf, data, len);
    s->buf[len] = '\0';
    s->len = (int)len;
}

Slice_t* NewSlice() { return calloc(1, sizeof(Slice_t)); }

void FreeSlice(Slice_t* slice) {
    if (!slice) return;
    free(slice->buf);
    free(slice);
}

char* GetContentFromSlice(Slice_t* slice) { return slice ? slice->buf : NULL; }

int GetSliceLen(Slice_t* slice) { return slice ? slice->len : 0; }

MediaData_t* NewMediaData() { return calloc(1, sizeof(MediaData_t)); }

void FreeMediaData(MediaData_t* m) {
    if (!m) return;
    free(m->outindexbuf);
    free(m->data);
    free(m);
}

char* GetOutIndexBuf(MediaData_t* m) { return m ? m->outindexbuf : NULL; }
char* GetData(MediaData_t* m) { return m ? m->data : NULL; }
int GetIndexLen(MediaData_t* m) { return m ? m->out_len : 0; }
int GetDataLen(MediaData_t* m) { return m ? m->data_len : 0; }
int IsMediaDataFinish(MediaData_t* m) { return m ? m->is_finish : 0; }

/* ---------------------------------------------------------------- SDK handle */

WeWorkFinanceSdk_t* NewSdk() { return calloc(1, sizeof(WeWorkFinanceSdk_t)); }

int Init(WeWorkFinanceSdk_t* sdk, const char* corpid, const char* secret) {
    if (!sdk || !corpid || !secret || !*corpid || !*secret) return 10000;
    free(sdk->corpid);
    free(sdk->secret);
    sdk->corpid = strdup(corpid);
    sdk->secret = strdup(secret);
    return (sdk->corpid && sdk->secret) ? 0 : 10003;
}

void DestroySdk(WeWorkFinanceSdk_t* sdk) {
    if (!sdk) return;
    free(sdk->corpid);
    free(sdk->secret);
    free(sdk);
}

/* ---------------------------------------------------------------- HTTP */

typedef struct {
    char* raw; /* whole response */
    size_t raw_len;
    const char* body;
    size_t body_len;
    int sdk_ret;
    char out_index[256];
    int is_finish;
} http_resp;

/* Appends s to buf as a JSON string literal. */
static void json_str(char* buf, size_t cap, const char* s) {
    size_t o = strlen(buf);
    if (o + 2 >= cap) return;
    buf[o++] = '"';
    for (; s && *s && o + 8 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)c;
        } else if (c < 0x20) {
            o += (size_t)snprintf(buf + o, cap - o, "\\u%04x", c);
        } else {
            buf[o++] = (char)c;
        }
    }
    buf[o++] = '"';
    buf[o] = '\0';
}

static const char* header_value(const char* headers, size_t hlen, const char* name, size_t* vlen) {
    size_t nlen = strlen(name);
    const char* p = headers;
    const char* end = headers + hlen;
    while (p < end) {
        const char* eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) eol = end;
        if ((size_t)(eol - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char* v = p + nlen + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            const char* ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ')) ve--;
            *vlen = (size_t)(ve - v);
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

/* POSTs a JSON body to the emulator; returns 0 or an SDK error code (10001 network, 10002 parse). */
static int http_post(const char* path, const char* json, int timeout, http_resp* r) {
    memset(r, 0, sizeof(*r));
    const char* base = getenv("WECOM_EMULATOR_URL");
    if (!base || strncmp(base, "http://", 7) != 0) return 10001;
    char host[256], port[16] = "80", prefix[512] = "";
    const char* h = base + 7;
    const char* slash = strchr(h, '/');
    size_t hostport_len = slash ? (size_t)(slash - h) : strlen(h);
    if (hostport_len == 0 || hostport_len >= sizeof(host)) return 10001;
    memcpy(host, h, hostport_len);
    host[hostport_len] = '\0';
    if (slash) {
        snprintf(prefix, sizeof(prefix), "%s", slash);
        size_t pl = strlen(prefix);
        if (pl > 0 && prefix[pl - 1] == '/') prefix[pl - 1] = '\0';
    }
    char* colon = strrchr(host, ':');
    if (colon) {
        snprintf(port, sizeof(port), "%s", colon + 1);
        *colon = '\0';
    }

    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0 || !ai) return 10001;
    int fd = -1;
    struct timeval tv;
    tv.tv_sec = timeout > 0 ? timeout : 10;
    tv.tv_usec = 0;
    for (struct addrinfo* a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) continue;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) return 10001;

    size_t blen = strlen(json);
    char head[1024];
    int hl = snprintf(head, sizeof(head),
                      "POST %s%s HTTP/1.0\r\nHost: %s:%s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      prefix, path, host, port, blen);
    if (hl <= 0 || (size_t)hl >= sizeof(head)) {
        close(fd);
        return 10000;
    }
    const char* parts[2] = {head, json};
    size_t lens[2] = {(size_t)hl, blen};
    for (int i = 0; i < 2; i++) {
        size_t off = 0;
        while (off < lens[i]) {
            ssize_t n = send(fd, parts[i] + off, lens[i] - off, MSG_NOSIGNAL);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                close(fd);
                return 10001;
            }
            off += (size_t)n;
        }
    }

    size_t cap = 65536, len = 0;
    char* buf = malloc(cap + 1);
    if (!buf) {
        close(fd);
        return 10003;
    }
    for (;;) {
        if (len == cap) {
            cap *= 2;
            char* nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                close(fd);
                return 10003;
            }
            buf = nb;
        }
        ssize_t n = recv(fd, buf + len, cap - len, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { /* timeout or reset */
            free(buf);
            close(fd);
            return 10001;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';

    char* sep = NULL;
    for (size_t i = 0; i + 3 < len; i++) {
        if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' && buf[i + 3] == '\n') {
            sep = buf + i;
            break;
        }
    }
    if (len == 0) {
        free(buf);
        return 10001; /* connection dropped before any response */
    }
    if (!sep || strncmp(buf, "HTTP/1.", 7) != 0) {
        free(buf);
        return 10002;
    }
    size_t hlen = (size_t)(sep - buf);
    int status = atoi(buf + 9);
    r->raw = buf;
    r->raw_len = len;
    r->body = sep + 4;
    r->body_len = len - hlen - 4;
    size_t vlen = 0;
    const char* v = header_value(buf, hlen, "content-length", &vlen);
    if (v && (size_t)strtoull(v, NULL, 10) != r->body_len) {
        free(buf);
        memset(r, 0, sizeof(*r));
        return 10001; /* truncated body */
    }
    v = header_value(buf, hlen, "x-sdk-ret", &vlen);
    if (!v || status != 200) {
        r->sdk_ret = status >= 500 ? 10003 : 10002;
        return 0;
    }
    r->sdk_ret = atoi(v);
    v = header_value(buf, hlen, "x-out-index-buf", &vlen);
    if (v && vlen < sizeof(r->out_index)) {
        memcpy(r->out_index, v, vlen);
        r->out_index[vlen] = '\0';
    }
    v = header_value(buf, hlen, "x-is-finish", &vlen);
    r->is_finish = v ? atoi(v) : 0;
    return 0;
}

/* ---------------------------------------------------------------- SDK calls */

int GetChatData(WeWorkFinanceSdk_t* sdk, unsigned long long seq, unsigned int limit, const char* proxy,
                const char* passwd, int timeout, Slice_t* chatDatas) {
    (void)proxy;
    (void)passwd;
    if (!sdk || !sdk->corpid || !chatDatas) return 10000;
    char json[2048] = "{\"corpid\":";
    json_str(json, sizeof(json), sdk->corpid);
    strncat(json, ",\"secret\":", sizeof(json) - strlen(json) - 1);
    json_str(json, sizeof(json), sdk->secret);
    char tail[128];
    /* seq travels as a decimal string: no JSON number precision issue on the way in. */
    snprintf(tail, sizeof(tail), ",\"seq\":\"%llu\",\"limit\":%u,\"timeout\":%d}", seq, limit, timeout);
    strncat(json, tail, sizeof(json) - strlen(json) - 1);
    http_resp r;
    int rc = http_post("/emulator/finance/chatdata", json, timeout, &r);
    if (rc != 0) {
        const char* msg = "{\"errcode\":10001,\"errmsg\":\"network error (stand-in SDK)\"}";
        slice_set(chatDatas, msg, strlen(msg));
        return rc;
    }
    /* The Slice holds the body even on a non-zero return: it carries WeCom's error JSON. */
    slice_set(chatDatas, r.body, r.body_len);
    int ret = r.sdk_ret;
    free(r.raw);
    return ret;
}

int GetMediaData(WeWorkFinanceSdk_t* sdk, const char* indexbuf, const char* sdkFileid, const char* proxy,
                 const char* passwd, int timeout, MediaData_t* media_data) {
    (void)proxy;
    (void)passwd;
    if (!sdk || !sdk->corpid || !sdkFileid || !media_data) return 10000;
    size_t cap = strlen(sdkFileid) * 2 + (indexbuf ? strlen(indexbuf) * 2 : 0) + 1024;
    char* json = malloc(cap);
    if (!json) return 10003;
    strcpy(json, "{\"corpid\":");
    json_str(json, cap, sdk->corpid);
    strncat(json, ",\"secret\":", cap - strlen(json) - 1);
    json_str(json, cap, sdk->secret);
    strncat(json, ",\"sdkfileid\":", cap - strlen(json) - 1);
    json_str(json, cap, sdkFileid);
    strncat(json, ",\"indexbuf\":", cap - strlen(json) - 1);
    json_str(json, cap, indexbuf ? indexbuf : "");
    strncat(json, "}", cap - strlen(json) - 1);
    http_resp r;
    int rc = http_post("/emulator/finance/media", json, timeout, &r);
    free(json);
    free(media_data->outindexbuf);
    free(media_data->data);
    memset(media_data, 0, sizeof(*media_data));
    if (rc != 0) return rc;
    /* Binary-safe copy: the chunk may contain NUL bytes. */
    media_data->data = malloc(r.body_len + 1);
    media_data->outindexbuf = strdup(r.out_index);
    if (!media_data->data || !media_data->outindexbuf) {
        free(r.raw);
        return 10003;
    }
    memcpy(media_data->data, r.body, r.body_len);
    media_data->data[r.body_len] = '\0';
    media_data->data_len = (int)r.body_len;
    media_data->out_len = (int)strlen(r.out_index);
    media_data->is_finish = r.is_finish;
    int ret = r.sdk_ret;
    free(r.raw);
    return ret;
}

int DecryptData(const char* encrypt_key, const char* encrypt_msg, Slice_t* msg) {
    if (!encrypt_key || !encrypt_msg || !msg) return 10000;
    if (!*encrypt_key) return 10008;
    size_t n = 0;
    uint8_t* ct = b64decode(encrypt_msg, &n);
    if (!ct) return 10006;
    if (n == 0 || n % 16 != 0) {
        free(ct);
        return 10006;
    }
    uint8_t key[32], iv[16], prev[16];
    uint32_t dk[60];
    sha256((const uint8_t*)encrypt_key, strlen(encrypt_key), key);
    aes256_expand_decrypt(key, dk);
    memcpy(iv, key, 16);
    uint8_t* pt = malloc(n + 1);
    if (!pt) {
        free(ct);
        return 10003;
    }
    for (size_t off = 0; off < n; off += 16) {
        memcpy(prev, ct + off, 16);
        aes256_decrypt_block(dk, ct + off, pt + off);
        for (int i = 0; i < 16; i++) pt[off + i] ^= iv[i];
        memcpy(iv, prev, 16);
    }
    free(ct);
    uint8_t pad = pt[n - 1];
    int bad = pad == 0 || pad > 16;
    for (size_t i = 0; !bad && i < pad; i++) bad = pt[n - 1 - i] != pad;
    if (bad) {
        free(pt);
        return 10006;
    }
    size_t len = n - pad;
    if (len >= strlen(CRASH_MARKER) && memcmp(pt, CRASH_MARKER, strlen(CRASH_MARKER)) == 0) {
        /* Imitates the vendor library's SIGSEGV inside DecryptData for specific messages. */
        raise(SIGSEGV);
        /* If a host handler swallowed the signal (V8 installs one for wasm traps), fault for real. */
        *(volatile int*)0 = 0;
    }
    slice_set(msg, (const char*)pt, len);
    free(pt);
    return 0;
}
