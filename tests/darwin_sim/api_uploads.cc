// Getting media in (E23-E29) and serving stored files (E48).
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api_handlers.h"
#include "api_json.h"
#include "ids.h"
#include "json_util.h"
#include "query_params.h"
#include "video_frames.h"
#include "video_probe.h"

namespace labelport::darwin_sim {
namespace {

// "/" + path with runs of '/' collapsed; "" and "/" give "/".
std::string ItemPath(std::string_view raw) {
  return NormalizePath(absl::StrCat("/", std::string(raw)));
}

json::object SlotReply(const Slot& slot, bool with_upload) {
  json::object s;
  s["type"] = slot.type;
  s["file_name"] = slot.file_name;
  s["slot_name"] = slot.slot_name;
  if (with_upload) s["upload_id"] = slot.upload_id;
  s["as_frames"] = slot.as_frames;
  s["extract_views"] = slot.extract_views;
  return s;
}

json::object BlockedReply(const std::string& id, const std::string& name, const std::string& path,
                          const json::array& slots, std::string_view reason) {
  json::object b;
  if (!id.empty()) b["id"] = id;
  b["name"] = name;
  b["path"] = path;
  json::array out;
  for (const json::value& s : slots) {
    json::object so;
    const json::object in = s.is_object() ? s.as_object() : json::object();
    const std::string file_name = GetString(in, "file_name", name);
    so["type"] = GetString(in, "type", SlotTypeForFileName(file_name));
    so["file_name"] = file_name;
    so["slot_name"] = GetString(in, "slot_name", "0");
    so["reason"] = reason;
    out.push_back(std::move(so));
  }
  if (out.empty()) {
    out.push_back(json::object{{"type", SlotTypeForFileName(name)},
                               {"file_name", name},
                               {"slot_name", "0"},
                               {"reason", reason}});
  }
  b["slots"] = std::move(out);
  return b;
}

// The slots of one registration entry: its `slots`, or the entry itself
// (single-slot forms with top-level `storage_key`/`file_content`).
json::array EntrySlots(const json::object& entry) {
  json::array slots = GetArray(entry, "slots");
  if (!slots.empty()) return slots;
  json::object single = entry;
  if (!single.contains("file_name")) single["file_name"] = GetString(entry, "name");
  if (!single.contains("slot_name")) single["slot_name"] = "0";
  slots.push_back(std::move(single));
  return slots;
}

Slot NewSlot(const json::object& in, std::string_view item_name) {
  Slot slot;
  slot.id = NewUuid();
  slot.file_name = GetString(in, "file_name", item_name);
  slot.slot_name = GetString(in, "slot_name", "0");
  slot.type = GetString(in, "type", SlotTypeForFileName(slot.file_name));
  slot.as_frames = GetBool(in, "as_frames", false);
  slot.extract_views = GetBool(in, "extract_views", false);
  if (const json::value* fps = in.if_contains("fps"); fps != nullptr) {
    if (std::optional<double> f = GetNumber(*fps)) slot.fps = *f;
  }
  return slot;
}

absl::StatusOr<json::object> Body(const ApiContext& ctx) { return ParseJsonObject(ctx.req.body); }

// Shared by register_existing and direct_upload: fills `item` from `entry`,
// reading each slot's bytes with `read`, and runs processing.
template <typename ReadFn>
void FillAndProcess(Store& store, Item& item, const json::array& slots, ReadFn read)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  std::vector<std::shared_ptr<const std::string>> bytes;
  for (const json::value& s : slots) {
    const json::object in = s.is_object() ? s.as_object() : json::object();
    item.slots.push_back(NewSlot(in, item.name));
    item.slots.back().upload_id = NewUuid();
    bytes.push_back(read(in));
  }
  for (size_t i = 0; i < item.slots.size(); ++i) store.ProcessSlotLocked(item, i, bytes[i]);
}

// {"id", "name", "path", "slots"} of `item`, with `slot_replies` as its slots.
json::object ItemReply(const Item& item, json::array slot_replies) {
  json::object reply;
  reply["id"] = item.id;
  reply["name"] = item.name;
  reply["path"] = item.path;
  reply["slots"] = std::move(slot_replies);
  return reply;
}

// ItemReply with the item's slots as they are stored now.
json::object StoredItemReply(const Item& item) {
  json::array replies;
  for (const Slot& s : item.slots) replies.push_back(SlotReply(s, false));
  return ItemReply(item, std::move(replies));
}

// The answer to one item entry of a registration: under "items", or under
// "blocked_items" when `blocked`.
struct EntryReply {
  json::object json;
  bool blocked = false;
};

// The answer {"items", "blocked_items"} to a registration of the entries of
// `body`'s "items" in the dataset `ds`: an entry whose path and name an item
// of the dataset has already is blocked as ALREADY_EXISTS, and
// `add(entry, name, path, slots)` answers each other one.
template <typename AddFn>
SimResponse ItemsReply(Store& store, Dataset& ds, const json::object& body, AddFn add)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(store.mu()) {
  json::array items;
  json::array blocked;
  for (const json::value& e : GetArray(body, "items")) {
    if (!e.is_object()) continue;
    const json::object& entry = e.as_object();
    const std::string name = GetString(entry, "name");
    const std::string path = ItemPath(GetString(entry, "path", "/"));
    const json::array slots = EntrySlots(entry);
    if (Item* existing = store.FindItemLocked(ds, path, name)) {
      blocked.push_back(BlockedReply(existing->id, name, path, slots, "ALREADY_EXISTS"));
      continue;
    }
    EntryReply reply = add(entry, name, path, slots);
    (reply.blocked ? blocked : items).push_back(std::move(reply.json));
  }
  json::object out;
  out["items"] = std::move(items);
  out["blocked_items"] = std::move(blocked);
  return JsonResponse(200, out);
}

// The answer to a request that adds a new item for each entry of its body's
// "items" whose path and name are free in the dataset its "dataset_slug"
// names (ItemsReply; 400 for a body that does not parse, 404 for no such
// dataset): `fill(item, entry, slots)` fills the new item and returns its
// reply.
template <typename FillFn>
SimResponse NewItemsReply(ApiContext& ctx, FillFn fill) {
  absl::StatusOr<json::object> body = Body(ctx);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, GetString(*body, "dataset_slug"));
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  return ItemsReply(ctx.store, *ds, *body,
                    [&](const json::object& entry, const std::string& name, const std::string& path,
                        const json::array& slots) -> EntryReply {
                      return {fill(ctx.store.NewItemLocked(*ds, name, path), entry, slots)};
                    });
}

// The upload the request path names (params[1]) and, in *item, its item; nullptr
// unless both exist and the item is the caller team's.
Upload* UploadParamLocked(ApiContext& ctx, Item** item)
    ABSL_EXCLUSIVE_LOCKS_REQUIRED(ctx.store.mu()) {
  auto it = ctx.store.state().uploads.find(ctx.params[1]);
  if (it == ctx.store.state().uploads.end()) return nullptr;
  *item = ctx.store.ItemLocked(it->second.item_id);
  if (*item == nullptr || (*item)->team_id != ctx.team_id) return nullptr;
  return &it->second;
}

}  // namespace

SimResponse HandleRegisterUpload(ApiContext& ctx) {
  return NewItemsReply(ctx, [&](Item& item, const json::object& entry, const json::array& slots) {
    if (const json::value* layout = entry.if_contains("layout")) item.layout = *layout;
    if (const json::value* tags = entry.if_contains("tags"); tags != nullptr && tags->is_array()) {
      item.tags = tags->as_array();
    }
    json::array slot_replies;
    for (size_t i = 0; i < slots.size(); ++i) {
      const json::object in = slots[i].is_object() ? slots[i].as_object() : json::object();
      Slot slot = NewSlot(in, item.name);
      slot.upload_id = NewUuid();
      Upload up;
      up.upload_id = slot.upload_id;
      up.item_id = item.id;
      up.slot_index = i;
      ctx.store.state().uploads[up.upload_id] = up;
      slot_replies.push_back(SlotReply(slot, true));
      item.slots.push_back(std::move(slot));
    }
    return ItemReply(item, std::move(slot_replies));
  });
}

SimResponse HandleSignUpload(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = nullptr;
  Upload* up = UploadParamLocked(ctx, &item);
  if (up == nullptr) return ErrorResponse(404, "upload not found");
  if (up->token.empty()) {
    up->token = NewToken();
    ctx.store.state().upload_by_token[up->token] = up->upload_id;
  }
  return JsonResponse(
      200, json::object{{"upload_url", absl::StrCat(ctx.req.base_url, "/_upload/", up->token)}});
}

SimResponse HandlePutUpload(ApiContext& ctx) {
  auto bytes = std::make_shared<const std::string>(ctx.req.body);
  absl::MutexLock lock(&ctx.store.mu());
  State& state = ctx.store.state();
  auto tok = state.upload_by_token.find(ctx.params[0]);
  if (tok == state.upload_by_token.end()) return ErrorResponse(403, "invalid upload token");
  Upload& up = state.uploads.at(tok->second);
  up.bytes = std::move(bytes);
  up.state = "uploaded";
  SimResponse r;
  r.status = 200;
  return r;
}

SimResponse HandleConfirmUpload(ApiContext& ctx) {
  // A video is probed (FFmpeg, milliseconds) between two critical sections so
  // other requests are not held up; the upload's state decides who applies it.
  std::shared_ptr<const std::string> video_bytes;
  {
    absl::MutexLock lock(&ctx.store.mu());
    Item* item = nullptr;
    Upload* found = UploadParamLocked(ctx, &item);
    if (found == nullptr) return ErrorResponse(404, "upload not found");
    const Upload& up = *found;
    if (up.state == "pending") return ErrorResponse(422, "nothing was uploaded");
    if (up.state != "uploaded") return JsonResponse(200, json::object());
    const Slot& slot = item->slots.at(up.slot_index);
    if (slot.type == "video" && ctx.store.state().declared_media.count(slot.file_name) == 0) {
      video_bytes = up.bytes;
    }
  }
  std::optional<absl::StatusOr<VideoInfo>> video;
  if (video_bytes != nullptr) video = ProbeVideo(*video_bytes);
  absl::MutexLock lock(&ctx.store.mu());
  Item* item = nullptr;
  Upload* found = UploadParamLocked(ctx, &item);
  if (found == nullptr) return ErrorResponse(404, "upload not found");
  Upload& up = *found;
  // A concurrent confirm (or a re-PUT) may have got there first.
  if (up.state == "uploaded") {
    up.state = "confirmed";
    const bool probed_these_bytes = video.has_value() && up.bytes == video_bytes;
    ctx.store.ProcessSlotLocked(*item, up.slot_index, up.bytes,
                                probed_these_bytes ? &*video : nullptr);
  }
  return JsonResponse(200, json::object());
}

SimResponse HandleDirectUpload(ApiContext& ctx) {
  return NewItemsReply(ctx, [&](Item& item, const json::object&, const json::array& slots) {
    FillAndProcess(ctx.store, item, slots, [](const json::object& in) {
      std::string decoded;
      if (!absl::Base64Unescape(GetString(in, "file_content"), &decoded)) decoded.clear();
      return std::make_shared<const std::string>(std::move(decoded));
    });
    return StoredItemReply(item);
  });
}

namespace {

SimResponse RegisterExisting(ApiContext& ctx, bool readonly) {
  absl::StatusOr<json::object> body = Body(ctx);
  if (!body.ok()) return ErrorResponse(400, body.status().message());
  absl::MutexLock lock(&ctx.store.mu());
  State& state = ctx.store.state();
  Dataset* ds = ctx.store.DatasetBySlugLocked(ctx.team_id, GetString(*body, "dataset_slug"));
  if (ds == nullptr) return ErrorResponse(404, "dataset not found");
  const std::string storage_slug = GetString(*body, "storage_slug");
  auto storage = state.storage.find({ctx.team_id, storage_slug});
  if (!readonly && storage == state.storage.end()) {
    return ErrorResponse(422, absl::StrCat("unknown storage_slug ", storage_slug));
  }
  return ItemsReply(
      ctx.store, *ds, *body,
      [&](const json::object& entry, const std::string& name, const std::string& path,
          const json::array& slots) -> EntryReply {
        // Read every slot first so a missing file blocks the whole item.
        std::vector<std::shared_ptr<const std::string>> contents;
        bool missing = false;
        if (!readonly) {
          for (const json::value& s : slots) {
            const std::string key =
                s.is_object() ? GetString(s.as_object(), "storage_key") : std::string();
            std::ifstream file(absl::StrCat(storage->second, "/", key), std::ios::binary);
            if (key.empty() || !file) {
              missing = true;
              break;
            }
            std::ostringstream ss;
            ss << file.rdbuf();
            contents.push_back(std::make_shared<const std::string>(ss.str()));
          }
        }
        if (missing) return {BlockedReply("", name, path, slots, "FILE_NOT_FOUND"), true};
        Item& item = ctx.store.NewItemLocked(*ds, name, path);
        if (const json::value* layout = entry.if_contains("layout")) item.layout = *layout;
        if (readonly) {
          for (const json::value& s : slots) {
            const json::object in = s.is_object() ? s.as_object() : json::object();
            Slot slot = NewSlot(in, name);
            slot.upload_id = NewUuid();
            slot.width = GetInt(in, "width");
            slot.height = GetInt(in, "height");
            if (slot.width) slot.metadata["width"] = *slot.width;
            if (slot.height) slot.metadata["height"] = *slot.height;
            slot.size_bytes = GetInt(in, "size_bytes").value_or(0);
            if (std::optional<int64_t> frames = GetInt(in, "total_frames"))
              slot.frame_count = frames;
            if (const json::value* fps = in.if_contains("native_fps")) {
              if (std::optional<double> f = GetNumber(*fps)) slot.fps = *f;
            }
            item.slots.push_back(std::move(slot));
          }
          item.status = "new";
          item.processing_status = "complete";
        } else {
          size_t next = 0;
          FillAndProcess(ctx.store, item, slots,
                         [&](const json::object&) { return contents[next++]; });
        }
        return {StoredItemReply(item)};
      });
}

SimResponse BytesResponse(const std::shared_ptr<const std::string>& bytes,
                          std::string_view file_name) {
  SimResponse r;
  r.status = 200;
  (void)file_name;
  r.content_type = "application/octet-stream";
  r.body = bytes == nullptr ? std::string() : *bytes;
  return r;
}

}  // namespace

SimResponse HandleRegisterExisting(ApiContext& ctx) { return RegisterExisting(ctx, false); }
SimResponse HandleRegisterReadonly(ApiContext& ctx) { return RegisterExisting(ctx, true); }

SimResponse HandleGetSourceFile(ApiContext& ctx) {
  absl::MutexLock lock(&ctx.store.mu());
  for (auto& [seq, item] : ctx.store.state().items) {
    for (const Slot& slot : item.slots) {
      if (slot.upload_id == ctx.params[1] && slot.bytes != nullptr) {
        return BytesResponse(slot.bytes, slot.file_name);
      }
    }
  }
  return ErrorResponse(404, "file not found");
}

SimResponse HandleGetSlotFile(ApiContext& ctx) {
  // Video slots serve frame images (sections/{n}; the thumbnail is frame 0),
  // decoded outside the lock; other slots serve their stored bytes.
  std::shared_ptr<const std::string> video;
  double fps = 0, native_fps = 0;
  {
    absl::MutexLock lock(&ctx.store.mu());
    const Slot* found = nullptr;
    for (auto& [seq, item] : ctx.store.state().items) {
      for (const Slot& slot : item.slots) {
        if (slot.id == ctx.params[1] && slot.bytes != nullptr) found = &slot;
      }
    }
    if (found == nullptr) return ErrorResponse(404, "file not found");
    const json::value* native = found->metadata.if_contains("native_fps");
    if (found->type != "video" || native == nullptr) {
      return BytesResponse(found->bytes, found->file_name);
    }
    video = found->bytes;
    fps = found->fps.value_or(0);
    native_fps = GetNumber(*native).value_or(0);
  }
  int64_t frame = 0;
  if (ctx.params.size() > 2 && !absl::SimpleAtoi(ctx.params[2], &frame)) {
    return ErrorResponse(404, absl::StrCat("no section ", ctx.params[2]));
  }
  absl::StatusOr<std::string> png = VideoFramePng(*video, frame, fps, native_fps);
  if (!png.ok()) {
    return ErrorResponse(absl::IsOutOfRange(png.status()) ? 404 : 422, png.status().message());
  }
  SimResponse r;
  r.status = 200;
  r.content_type = "image/png";
  r.body = std::move(*png);
  return r;
}

}  // namespace labelport::darwin_sim
