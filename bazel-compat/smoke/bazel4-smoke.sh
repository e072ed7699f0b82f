#!/usr/bin/env bash
# Offline smoke test of bazel-compat/BUILD.bazel with Debian 12's Bazel 4.2.3
# (apt-get install bazel-bootstrap). Not part of .ci/test.
#
# Bazel 4 has no bzlmod and no network here, so this does NOT use MODULE.bazel:
# it mounts bazel-compat/ as a WORKSPACE local_repository and replaces its
# dependencies with local stand-ins over Debian's protoc and libprotobuf:
#   verified: every proto_library (imports resolve through the `labelport`
#             symlink), cc_proto_library, and a C++ binary using the messages;
#   stubbed:  cc_grpc_library, py_proto_library, py_grpc_library,
#             go_proto_library (empty filegroups: only their load() and call
#             syntax is exercised), and rules_cc / rules_java (Bazel 4 fetches
#             them from GitHub for its own tools).
# Usage: bash bazel-compat/smoke/bazel4-smoke.sh [work dir, default a temp dir]
set -euo pipefail
compat="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
w="${1:-$(mktemp -d)}"
mkdir -p "$w"/{ws,lp,protobuf/bazel,protobuf/google/protobuf,rules_proto/proto,grpc/bazel,rules_go/proto,rules_cc/cc,rules_java/java}

# The module under test: its BUILD file and the symlinked protos, unchanged.
touch "$w/lp/WORKSPACE"
ln -sfn "$compat/BUILD.bazel" "$w/lp/BUILD.bazel"
ln -sfn "$compat/labelport" "$w/lp/labelport"

wrap() {  # wrap FILE RULE...: a .bzl of macros forwarding to the native rules
  local file="$1"; shift
  : > "$file"
  for r in "$@"; do printf 'def %s(**kwargs):\n    native.%s(**kwargs)\n\n' "$r" "$r" >> "$file"; done
}
stub() {  # stub FILE RULE...: macros that define an empty filegroup
  local file="$1"; shift
  : > "$file"
  for r in "$@"; do printf 'def %s(name, **kwargs):\n    native.filegroup(name = name)\n\n' "$r" >> "$file"; done
}

# @protobuf: Debian's protoc, well-known types and libprotobuf.
p="$w/protobuf"
touch "$p/WORKSPACE" "$p/bazel/BUILD.bazel"
cp /usr/include/google/protobuf/{timestamp,struct}.proto "$p/google/protobuf/"
printf '#!/bin/sh\nexec /usr/bin/protoc "$@"\n' > "$p/protoc.sh"
chmod +x "$p/protoc.sh"
cat > "$p/BUILD.bazel" <<'EOF'
package(default_visibility = ["//visibility:public"])
sh_binary(name = "protoc", srcs = ["protoc.sh"])
proto_library(name = "timestamp_proto", srcs = ["google/protobuf/timestamp.proto"])
proto_library(name = "struct_proto", srcs = ["google/protobuf/struct.proto"])
cc_library(name = "protobuf_cc", linkopts = ["-lprotobuf"])
proto_lang_toolchain(
    name = "cc_toolchain",
    blacklisted_protos = [":struct_proto", ":timestamp_proto"],
    command_line = "--cpp_out=$(OUT)",
    runtime = ":protobuf_cc",
)
EOF
wrap "$p/bazel/cc_proto_library.bzl" cc_proto_library
stub "$p/bazel/py_proto_library.bzl" py_proto_library

touch "$w/rules_proto/WORKSPACE" "$w/rules_proto/BUILD.bazel" "$w/rules_proto/proto/BUILD.bazel"
wrap "$w/rules_proto/proto/defs.bzl" proto_library
touch "$w/grpc/WORKSPACE" "$w/grpc/BUILD.bazel" "$w/grpc/bazel/BUILD.bazel"
stub "$w/grpc/bazel/cc_grpc_library.bzl" cc_grpc_library
stub "$w/grpc/bazel/python_rules.bzl" py_grpc_library
touch "$w/rules_go/WORKSPACE" "$w/rules_go/BUILD.bazel" "$w/rules_go/proto/BUILD.bazel"
stub "$w/rules_go/proto/def.bzl" go_proto_library
touch "$w/rules_cc/WORKSPACE" "$w/rules_cc/BUILD.bazel"
echo 'package(default_visibility = ["//visibility:public"])' > "$w/rules_cc/cc/BUILD.bazel"
wrap "$w/rules_cc/cc/defs.bzl" cc_binary cc_library cc_test cc_import cc_proto_library \
  fdo_prefetch_hints fdo_profile objc_library objc_import cc_toolchain cc_toolchain_suite
touch "$w/rules_java/WORKSPACE" "$w/rules_java/BUILD.bazel"
echo 'package(default_visibility = ["//visibility:public"])' > "$w/rules_java/java/BUILD.bazel"
wrap "$w/rules_java/java/defs.bzl" java_binary java_library java_test java_import java_plugin \
  java_proto_library java_lite_proto_library java_runtime java_toolchain java_package_configuration

cat > "$w/ws/WORKSPACE" <<EOF
workspace(name = "smoke")
local_repository(name = "labelport_protos", path = "$w/lp")
local_repository(name = "protobuf", path = "$w/protobuf")
local_repository(name = "rules_proto", path = "$w/rules_proto")
local_repository(name = "grpc", path = "$w/grpc")
local_repository(name = "rules_go", path = "$w/rules_go")
EOF
cat > "$w/ws/BUILD.bazel" <<'EOF'
cc_binary(
    name = "smoke",
    srcs = ["smoke.cc"],
    deps = ["@labelport_protos//:labelport_v1_cc_proto"],
)
EOF
cat > "$w/ws/smoke.cc" <<'EOF'
#include "labelport/v1/annotation_service.pb.h"
int main() {
  labelport::v1::GetRunRequest request;
  return request.ByteSizeLong() == 0 ? 0 : 1;
}
EOF

cd "$w/ws"
bazel --output_user_root="$w/root" --batch build \
  --override_repository=rules_cc="$w/rules_cc" --override_repository=rules_java="$w/rules_java" \
  --proto_compiler=@protobuf//:protoc --proto_toolchain_for_cc=@protobuf//:cc_toolchain \
  @labelport_protos//:all //:smoke
./bazel-bin/smoke
echo "bazel4-smoke: proto_library and cc_proto_library targets build; the C++ smoke binary runs"
