// Payload encryption at the store level: opening sealed payloads on read, shredding, and
// changing the master key (docs/encryption.md).
#include <sodium.h>

#include "batpak/store.hpp"
#include "crypto/payload_cipher.hpp"
#include "segment/segment_files.hpp"
#include "store/signer.hpp"
#include "store/store_impl.hpp"

namespace batpak {

Result<crypto::KeyRecord> Store::Impl::sealing_key(std::span<const uint8_t> sealed) const {
  const std::optional<uint32_t> key_id = crypto::sealed_key_id(sealed);
  if (!key_id) return make_error(ErrorCode::kCorruption, "its sealed payload is too short");
  if (!keyset) return make_error(ErrorCode::kCorruption, "its payload is sealed but the store has no keys file");
  std::optional<crypto::KeyRecord> key = keyset->lookup(*key_id);
  if (!key) return make_error(ErrorCode::kCorruption, "its payload key " + std::to_string(*key_id) + " is not in the keys file");
  return *key;
}

Status Store::Impl::unseal(std::span<const uint8_t> sealed, Event& event, const std::string& file,
                           uint64_t offset) const {
  event.payload_shredded = false;
  auto damage = [&](const std::string& why) -> Status {
    return tl::unexpected(Error{ErrorCode::kCorruption, "event " + event.header.event_id.to_hex() + ": " + why, file,
                                offset, event.coordinate.entity()});
  };
  auto key = sealing_key(sealed);
  if (!key) return damage(key.error().message);
  if (key->state == crypto::KeyState::kShredded) {
    event.payload.clear();
    event.payload_shredded = true;
    return {};
  }
  const crypto::SealContext context{event.header.event_id, event.header.kind, event.coordinate.entity(),
                                    event.coordinate.scope()};
  const bool opened = crypto::open_payload(key->key, context, sealed, event.payload);
  sodium_memzero(key->key.data(), key->key.size());
  if (!opened) return damage("its sealed payload does not open under its key");
  return {};
}

Status Store::Impl::check_keys_writable() const {
  if (auto s = check_writable(); !s) return s;
  if (!keyset) {
    return make_error(ErrorCode::kInvalidArgument,
                      "this store does not encrypt payloads (StoreOptions::encrypt_payloads): it has no payload keys");
  }
  return {};
}

Status Store::Impl::check_shred(std::string_view entity) const {
  if (auto s = Coordinate::validate_component(entity, "entity"); !s) return s;
  return check_keys_writable();
}

Result<uint32_t> Store::shred_entity(std::string_view entity) {
  if (auto s = impl_->check_shred(entity); !s) return tl::unexpected(s.error());
  return impl_->keyset->shred(entity);
}

Result<NamespaceShredReport> Store::shred_namespace(std::string_view prefix) {
  if (auto s = impl_->check_shred(prefix); !s) return tl::unexpected(s.error());
  const std::vector<EntitySummary> found = impl_->index.list_entities(prefix, "", SIZE_MAX);
  std::vector<std::string_view> entities;
  for (const EntitySummary& e : found) entities.push_back(e.entity);
  auto shredded = impl_->keyset->shred(entities);
  if (!shredded) return tl::unexpected(shredded.error());
  return NamespaceShredReport{entities.size(), *shredded};
}

Status Store::change_master_key(const std::optional<MasterKey>& master_key) {
  if (auto s = impl_->check_keys_writable(); !s) return s;
  return impl_->keyset->change_master_key(*impl_->fs, impl_->dir, master_key);
}

Result<MasterKey> generate_master_key() { return new_secret_bytes(); }

}  // namespace batpak
