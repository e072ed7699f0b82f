// OnDestroy<Handle>: a `Handle` that calls a function once, when it is
// destroyed. For registries that hand out a handle whose only contract is
// its virtual destructor (a subscription, a watch): the function undoes the
// registration. `Handle` must be a class with a virtual destructor and a
// default constructor.
#ifndef LABELPORT_SERVICE_COMMON_ON_DESTROY_H_
#define LABELPORT_SERVICE_COMMON_ON_DESTROY_H_

#include <functional>
#include <utility>

namespace labelport::common {

template <typename Handle>
class OnDestroy final : public Handle {
 public:
  explicit OnDestroy(std::function<void()> on_destroy) : on_destroy_(std::move(on_destroy)) {}
  ~OnDestroy() override { on_destroy_(); }

  OnDestroy(const OnDestroy&) = delete;
  OnDestroy& operator=(const OnDestroy&) = delete;

 private:
  const std::function<void()> on_destroy_;
};

}  // namespace labelport::common

#endif  // LABELPORT_SERVICE_COMMON_ON_DESTROY_H_
