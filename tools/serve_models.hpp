// nst serve: the feed-forward style networks it offers, loaded once at start
// from every *.nstw file of one folder. A model is found by its name (the file
// name without .nstw) in this table only: no request names a file.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "models/transformer.hpp"

namespace nst::serve {

struct ServedModel {
  std::string name;                 // file name without .nstw
  std::vector<std::string> styles;  // one per style (a multi-style network has several)
  Transformer net;
};

class ModelCatalog {
 public:
  // Every *.nstw directly in `dir`, in name order. A file that does not load
  // is reported on stderr and left out; nst::Error when none loads or the
  // folder cannot be read.
  static ModelCatalog load(const std::string& dir);

  const std::vector<std::unique_ptr<ServedModel>>& models() const { return models_; }
  const ServedModel* find(const std::string& name) const;  // nullptr: no such model

  // The built-in sample painted with style `style` of `model`, PNG bytes,
  // thumbnail_side px; rendered on first request, then kept.
  static constexpr int64_t thumbnail_side = 96;
  std::string thumbnail(const ServedModel& model, int64_t style) const;

 private:
  struct Thumbnails {
    std::mutex mutex;  // one rendering at a time
    std::map<std::pair<std::string, int64_t>, std::string> png;
  };
  std::vector<std::unique_ptr<ServedModel>> models_;
  std::unique_ptr<Thumbnails> thumbnails_ = std::make_unique<Thumbnails>();
};

}  // namespace nst::serve
