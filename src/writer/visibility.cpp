#include "writer/visibility.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace batpak::writer {

VisibilityNotifier::~VisibilityNotifier() {
  if (const int fd = event_fd_.load(); fd >= 0) ::close(fd);
}

void VisibilityNotifier::publish(uint64_t visible) {
  {
    std::lock_guard lock(mu_);
    if (visible <= visible_) return;
    visible_ = visible;
    // Both under mu_: whoever sees the new watermark also finds the fd readable, and a
    // subscription made after that is not told about these events.
    signal_fd();
    if (observer_) observer_->on_visible(visible);
  }
  cv_.notify_all();
}

void VisibilityNotifier::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    signal_fd();
  }
  cv_.notify_all();
}

Result<int> VisibilityNotifier::event_fd() {
  std::lock_guard lock(fd_mu_);
  if (event_fd_.load() < 0) {
    const int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return make_error(ErrorCode::kIo, std::string("eventfd: ") + std::strerror(errno));
    event_fd_.store(fd);
  }
  return event_fd_.load();
}

void VisibilityNotifier::signal_fd() {
  const int fd = event_fd_.load();
  if (fd < 0) return;
  const uint64_t one = 1;
  // EAGAIN (the counter is saturated) still leaves the fd readable, which is all we promise.
  [[maybe_unused]] ssize_t written = ::write(fd, &one, sizeof one);
}

}  // namespace batpak::writer
