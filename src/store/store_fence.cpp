// Watermarks, appliers and visibility fences: the Store calls and their handles.
#include "store/store_impl.hpp"

namespace batpak {

// ---- Watermarks ----

Frontier Store::frontier() const { return impl_->watermarks->frontier(); }

Status Store::wait_for(Watermark which, HlcPoint point, uint32_t timeout_ms) const {
  if (auto s = impl_->check_open(); !s) return s;
  return impl_->watermarks->wait_for(which, point, std::chrono::milliseconds(timeout_ms));
}

Status Store::wait_for_durable(HlcPoint point, uint32_t timeout_ms) const {
  return wait_for(Watermark::kDurable, point, timeout_ms);
}

Status Store::wait_for_visible(HlcPoint point, uint32_t timeout_ms) const {
  return wait_for(Watermark::kVisible, point, timeout_ms);
}

Status Store::wait_for_applied(HlcPoint point, uint32_t timeout_ms) const {
  return wait_for(Watermark::kApplied, point, timeout_ms);
}

Result<Applier> Store::register_applier(std::string name) const {
  if (auto s = impl_->check_open(); !s) return tl::unexpected(s.error());
  if (name.empty()) return make_error(ErrorCode::kInvalidArgument, "an applier needs a name");
  auto id = impl_->watermarks->add_applier(name);
  if (!id) return tl::unexpected(id.error());
  return Applier(this, *id, std::move(name));
}

Applier::Applier(Applier&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)), id_(other.id_), name_(std::move(other.name_)) {}

Applier& Applier::operator=(Applier&& other) noexcept {
  if (this != &other) {
    if (store_) store_->impl_->watermarks->remove_applier(id_);
    store_ = std::exchange(other.store_, nullptr);
    id_ = other.id_;
    name_ = std::move(other.name_);
  }
  return *this;
}

Applier::~Applier() {
  if (store_) store_->impl_->watermarks->remove_applier(id_);
}

Status Applier::advance(HlcPoint applied) {
  if (!store_) return make_error(ErrorCode::kInvalidArgument, "this Applier was moved from");
  if (auto s = store_->impl_->check_open(); !s) return s;
  return store_->impl_->watermarks->advance_applier(id_, applied);
}

// ---- Visibility fences ----

Result<Fence> Store::begin_fence() {
  if (auto s = impl_->check_writable(); !s) return tl::unexpected(s.error());
  auto first = impl_->writer->begin_fence();
  if (!first) return tl::unexpected(first.error());
  return Fence(this, *first);
}

std::vector<SequenceRange> Store::cancelled_ranges() const { return impl_->fence_log->cancelled(); }

Fence::Fence(Fence&& other) noexcept : store_(std::exchange(other.store_, nullptr)), first_(other.first_) {}

Fence& Fence::operator=(Fence&& other) noexcept {
  if (this != &other) {
    if (store_) (void)cancel();
    store_ = std::exchange(other.store_, nullptr);
    first_ = other.first_;
  }
  return *this;
}

Fence::~Fence() {
  if (store_) (void)cancel();
}

Status Fence::end(bool commit) {
  if (!store_) return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  Store::Impl& impl = *std::exchange(store_, nullptr)->impl_;
  if (auto s = impl.check_writable(); !s) return s;
  return commit ? impl.writer->commit_fence(first_) : impl.writer->cancel_fence(first_);
}

Status Fence::commit() { return end(/*commit=*/true); }

Status Fence::cancel() { return end(/*commit=*/false); }

Result<Receipt> Fence::append(const Coordinate& coordinate, EventKind kind, std::span<const uint8_t> payload,
                              const AppendOptions& options) {
  if (!store_) return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  return store_->impl_->append_one(coordinate, kind, payload, options, /*reserved_allowed=*/false, first_);
}

Result<std::vector<Receipt>> Fence::append_batch(std::span<const BatchItem> items) {
  if (!store_) return make_error(ErrorCode::kFenceNotActive, "the fence was already committed or cancelled");
  return store_->impl_->append_items(items, first_);
}

}  // namespace batpak
