#include "tools/serve_models.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "io/file_util.hpp"
#include "nst/fast.hpp"
#include "tensor/check.hpp"
#include "tools/serve_image.hpp"

namespace nst::serve {

ModelCatalog ModelCatalog::load(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  NST_CHECK(fs::is_directory(dir, ec), "nst serve: --models '", dir, "' is not a folder");
  std::vector<fs::path> files;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec))
    if (e.is_regular_file(ec) && file_extension(e.path().string()) == "nstw")
      files.push_back(e.path());
  NST_CHECK(!ec, "nst serve: cannot list the folder '", dir, "': ", ec.message());
  std::sort(files.begin(), files.end());
  ModelCatalog catalog;
  for (const fs::path& f : files) {
    try {
      auto m = std::make_unique<ServedModel>(
          ServedModel{f.stem().string(), {}, Transformer::load(f.string())});
      m->styles = m->net.style_names();
      catalog.models_.push_back(std::move(m));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "nst serve: warning: leaving out '%s': %s\n", f.string().c_str(),
                   e.what());
    }
  }
  NST_CHECK(!catalog.models_.empty(), "nst serve: no style network (*.nstw) in '", dir,
            "' could be loaded (make them with `make models` or `nst convert`)");
  return catalog;
}

const ServedModel* ModelCatalog::find(const std::string& name) const {
  for (const auto& m : models_)
    if (m->name == name) return m.get();
  return nullptr;
}

std::string ModelCatalog::thumbnail(const ServedModel& model, int64_t style) const {
  NST_CHECK(style >= 0 && style < model.net.style_count(), "thumbnail: style ", style,
            " of '", model.name, "'");
  std::lock_guard<std::mutex> lock(thumbnails_->mutex);
  const auto key = std::make_pair(model.name, style);
  if (const auto it = thumbnails_->png.find(key); it != thumbnails_->png.end()) return it->second;
  FastOptions options;
  options.style.assign(size_t(model.net.style_count()), 0.0);
  options.style[size_t(style)] = 1.0;
  const Tensor painted = fast_stylize(model.net, sample_picture(thumbnail_side), options).image;
  return thumbnails_->png[key] = encode_image(painted, ImageFormat::png);
}

}  // namespace nst::serve
