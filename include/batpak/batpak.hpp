// Umbrella header: the whole public API of batpak.
#pragma once

#include "batpak/codec.hpp"
#include "batpak/cursor.hpp"
#include "batpak/env.hpp"
#include "batpak/evidence.hpp"
#include "batpak/event.hpp"
#include "batpak/json.hpp"
#include "batpak/options.hpp"
#include "batpak/projection.hpp"
#include "batpak/projection_cache.hpp"
#include "batpak/projection_flow.hpp"
#include "batpak/status.hpp"
#include "batpak/store.hpp"
#include "batpak/subscription.hpp"
#include "batpak/typed.hpp"
#include "batpak/types.hpp"
#include "batpak/watch.hpp"
