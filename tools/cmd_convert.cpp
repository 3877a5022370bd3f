// nst convert: a published VGG-19 release -> our .nstw weight file.
#include <iostream>

#include "cli.hpp"
#include "tools/args.hpp"
#include "convert/convert.hpp"
#include "tensor/check.hpp"

namespace {

int run(int argc, const char* const* argv) {
  nst::ArgParser p("nst convert",
                   "Convert VGG-19 weights (TF.js layers model or PyTorch .pth state_dict) "
                   "into an .nstw file (format: weights/FORMAT.md).");
  p.option("from", "tfjs|pth", "source format").required();
  p.option("input", "PATH", "model.json or its folder (tfjs); the .pth file (pth)").required();
  p.option("output", "OUT.nstw", "weight file to write (atomically)").required();
  p.option("dtype", "uint8|float32", "stored dtype (default: as in the source)");
  p.option("convention", "caffe|torchvision",
           "input convention (default: caffe for tfjs; from the .pth file name)");
  const auto args = p.parse(argc - 1, argv + 1);  // argv[0] is "convert"
  if (!args) return 0;

  nst::io::ConvertOptions o;
  const std::string from = args->get("from");
  NST_CHECK(from == "tfjs" || from == "pth", "nst convert: --from must be tfjs or pth, got '",
            from, "'");
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

const nst::cli::Command command{"convert", "VGG-19 release (TF.js or .pth) -> .nstw weights", run};

}  // namespace
