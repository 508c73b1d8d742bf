/*
 * live_assets.h - the files of the live view's page (server/live/), built
 * into slowserver.
 *
 * scripts/embed.sh turns each file into a byte array at build time
 * (build/obj/gen/live_assets.c), so the binary serves the page on its own:
 * nothing to install next to it, nothing that can go missing or be stale
 * when the server runs from another directory.  Edit the files in
 * server/live/ and rebuild.
 */
#ifndef SLOWSERVER_LIVE_ASSETS_H
#define SLOWSERVER_LIVE_ASSETS_H

#include <stddef.h>

struct live_asset {
    const char *name;              /* "index.html", "live.js", ... */
    const unsigned char *data;
    size_t size;
};

/* The asset called name, or NULL. */
const struct live_asset *live_asset_named(const char *name);

#endif
