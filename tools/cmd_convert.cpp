// nst convert: a published VGG-19 release, or an ml5 fast-style network,
// -> our .nstw weight / model file.
#include <iostream>

#include "cli.hpp"
#include "tools/args.hpp"
#include "convert/convert.hpp"
#include "convert/ml5.hpp"
#include "tensor/check.hpp"

namespace {

int run(int argc, const char* const* argv) {
  nst::ArgParser p("nst convert",
                   "Convert VGG-19 weights (TF.js layers model or PyTorch .pth state_dict), or "
                   "a feed-forward style network (ml5 fast-style folder), into an .nstw file "
                   "(format: weights/FORMAT.md).");
  p.option("from", "tfjs|pth|ml5", "source format").required();
  p.option("input", "PATH",
           "model.json or its folder (tfjs); the .pth file (pth); the folder with "
           "manifest.json (ml5)")
      .required();
  p.option("output", "OUT.nstw", "weight file to write (atomically)").required();
  p.option("dtype", "uint8|float32", "stored dtype (default: as in the source)");
  p.option("convention", "caffe|torchvision",
           "input convention (default: caffe for tfjs; from the .pth file name)");
  const auto args = p.parse(argc - 1, argv + 1);  // argv[0] is "convert"
  if (!args) return 0;

  nst::io::ConvertOptions o;
  const std::string from = args->get("from");
  NST_CHECK(from == "tfjs" || from == "pth" || from == "ml5",
            "nst convert: --from must be tfjs, pth or ml5, got '", from, "'");
  if (from == "ml5") {
    NST_CHECK(!args->has("dtype") && !args->has("convention"),
              "nst convert: --dtype and --convention are for VGG-19 weights, not --from ml5");
    const nst::io::Ml5Summary s = nst::io::convert_ml5(args->get("input"), args->get("output"));
    std::cout << "wrote " << args->get("output") << ": feed-forward network, width " << s.width
              << ", " << s.residual_blocks << " residual blocks, " << s.tensors
              << " tensors, source " << s.source_checksum << "\n";
    return 0;
  }
  o.from = from == "tfjs" ? nst::io::SourceFormat::Tfjs : nst::io::SourceFormat::Pth;
  o.input = args->get("input");
  o.output = args->get("output");
  if (args->has("dtype")) {
    const std::string d = args->get("dtype");
    NST_CHECK(d == "uint8" || d == "float32", "nst convert: --dtype must be uint8 or float32, got '",
              d, "'");
    o.dtype = d == "uint8" ? nst::io::DType::UInt8 : nst::io::DType::Float32;
  }
  if (args->has("convention")) {
    const std::string c = args->get("convention");
    NST_CHECK(c == "caffe" || c == "torchvision",
              "nst convert: --convention must be caffe or torchvision, got '", c, "'");
    o.convention = c == "caffe" ? nst::io::caffe_convention() : nst::io::torchvision_convention();
  }
  const nst::io::ConvertSummary s = nst::io::convert_vgg19(o);
  std::cout << "wrote " << o.output << ": " << s.tensors << " tensors, " << s.bytes
            << " bytes of data" << (s.has_classifier ? " (conv + fc)" : " (conv only)")
            << ", source " << s.source_checksum << "\n";
  return 0;
}

const nst::cli::Command command{"convert",
                                "VGG-19 release (TF.js or .pth) or ml5 style network -> .nstw",
                                run};

}  // namespace
