// stb_image compiled with the fuzzer's instrumentation, for fuzz_image_decode. Built with
// -fno-sanitize=nonnull-attribute: stb_image 2.27 calls memcpy(NULL, p, 0) for a PNG whose
// first IDAT chunk is empty (legal PNG; found by the fuzzer). That is undefined by the
// letter of C but copies nothing, and refusing such files would refuse valid images.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>
