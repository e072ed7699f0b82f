// Settings that tests may change while the sim runs (command-line defaults,
// then POST /_sim/config). Lock-free; every field is read per request.
#ifndef LABELPORT_TESTS_DARWIN_SIM_RUNTIME_CONFIG_H_
#define LABELPORT_TESTS_DARWIN_SIM_RUNTIME_CONFIG_H_

#include <atomic>
#include <cstdint>

namespace labelport::darwin_sim {

struct RuntimeConfig {
  std::atomic<int64_t> latency_ms{0};             // Added to every response.
  std::atomic<int64_t> processing_delay_ms{0};    // Upload confirm -> "new".
  std::atomic<int64_t> export_delay_ms{0};        // Export create -> complete.
  std::atomic<int64_t> rate_limit_per_minute{0};  // Per API key; 0 = off.
  std::atomic<int64_t> import_body_limit{0};      // E35 bytes above -> 413; 0 = off.
  std::atomic<int64_t> default_page_size{500};    // E21 without page[size].
};

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_RUNTIME_CONFIG_H_
