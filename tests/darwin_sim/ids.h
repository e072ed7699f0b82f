// Identifier, token and timestamp generation for darwin-sim. Thread-safe.
#ifndef LABELPORT_TESTS_DARWIN_SIM_IDS_H_
#define LABELPORT_TESTS_DARWIN_SIM_IDS_H_

#include <chrono>
#include <string>

namespace labelport::darwin_sim {

// A random (version 4) UUID in canonical 36-character form.
std::string NewUuid();
// An unguessable URL-safe token of 32 hex characters.
std::string NewToken();
// `YYYY-MM-DDTHH:MM:SSZ` (UTC, no fractional seconds, as V7 clients require).
std::string FormatTimestamp(std::chrono::system_clock::time_point t);
std::string NowTimestamp();

}  // namespace labelport::darwin_sim

#endif  // LABELPORT_TESTS_DARWIN_SIM_IDS_H_
