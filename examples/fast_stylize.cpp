// A program of one's own that links the installed nst library (find_package(nst))
// and paints a photo with a feed-forward style network:
//
//   fast_stylize MODEL.nstw PHOTO OUT.png [LONG_SIDE]
//
// Models: `make models` in the nst tree (build/models/*.nstw), or the ones the
// Debian package installs in /usr/share/nst/models.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "io/image.hpp"
#include "nst/fast.hpp"

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) {
    std::fprintf(stderr, "usage: %s MODEL.nstw PHOTO OUT.png [LONG_SIDE]\n", argv[0]);
    return 2;
  }
  try {
    const nst::Transformer net = nst::Transformer::load(argv[1]);  // checks the file whole
    const nst::Tensor photo = nst::load_image(argv[2]);             // [1, 3, H, W], RGB 0..255
    nst::FastOptions options;                                       // first style, photo's size
    if (argc == 5) options.size = std::atoll(argv[4]);
    const nst::FastResult result = nst::fast_stylize(net, photo, options);
    nst::save_image(argv[3], result.image);  // written to a temporary, then renamed
    std::printf("%s: %lld x %lld, network %.2f s\n", argv[3], (long long)result.image.w(),
                (long long)result.image.h(), result.network_seconds);
    return 0;
  } catch (const std::exception& e) {  // nst::Error: a message naming the file and the problem
    std::fprintf(stderr, "fast_stylize: %s\n", e.what());
    return 1;
  }
}
