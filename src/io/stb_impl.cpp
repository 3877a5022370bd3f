// The one translation unit that compiles the stb image codecs (Debian's libstb-dev headers).
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// Formats no photograph comes in are left out: less decoder code, less to go wrong.
#define STBI_NO_PSD
#define STBI_NO_HDR
#define STBI_NO_PIC
#include <stb_image.h>
#include <stb_image_write.h>
