/*
 * Stand-in for Tencent's WeWorkFinanceSdk_C.h: the same 17 exported functions with the same
 * signatures, so code written against it loads the real libWeWorkFinanceSdk_C.so unchanged.
 * This library talks to the Vigil WeCom emulator (WECOM_EMULATOR_URL), not to WeCom.
 */
#ifndef WEWORK_FINANCE_SDK_C_H
#define WEWORK_FINANCE_SDK_C_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct WeWorkFinanceSdk_t WeWorkFinanceSdk_t;

typedef struct Slice_t {
    char* buf;
    int len;
} Slice_t;

typedef struct MediaData {
    char* outindexbuf;
    int out_len;
    char* data;
    int data_len;
    int is_finish;
} MediaData_t;

/*
 * Return codes (as the vendor header):
 * 0 success; 10000 bad parameters; 10001 network error; 10002 response parse failure;
 * 10003 system failure; 10004 key error; 10005 bad fileid; 10006 decryption failed;
 * 10007 no private key for this version; 10008 failed to parse encrypt_key; 10009 illegal IP;
 * 10010 data expired; 10011 certificate error.
 */

WeWorkFinanceSdk_t* NewSdk();
int Init(WeWorkFinanceSdk_t* sdk, const char* corpid, const char* secret);
int GetChatData(WeWorkFinanceSdk_t* sdk, unsigned long long seq, unsigned int limit, const char* proxy,
                const char* passwd, int timeout, Slice_t* chatDatas);
int DecryptData(const char* encrypt_key, const char* encrypt_msg, Slice_t* msg);
int GetMediaData(WeWorkFinanceSdk_t* sdk, const char* indexbuf, const char* sdkFileid, const char* proxy,
                 const char* passwd, int timeout, MediaData_t* media_data);
void DestroySdk(WeWorkFinanceSdk_t* sdk);

Slice_t* NewSlice();
void FreeSlice(Slice_t* slice);
char* GetContentFromSlice(Slice_t* slice);
int GetSliceLen(Slice_t* slice);

MediaData_t* NewMediaData();
void FreeMediaData(MediaData_t* media_data);
char* GetOutIndexBuf(MediaData_t* media_data);
char* GetData(MediaData_t* media_data);
int GetIndexLen(MediaData_t* media_data);
int GetDataLen(MediaData_t* media_data);
int IsMediaDataFinish(MediaData_t* media_data);

#ifdef __cplusplus
}
#endif

#endif
