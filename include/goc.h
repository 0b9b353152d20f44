/* goc.h: Go's concurrency model for C. Includes every goc package. */
#ifndef GOC_H
#define GOC_H

#include "goc/runtime.h"
#include "goc/chan.h"
#include "goc/sync.h"
#include "goc/time.h"
#include "goc/net.h"
#include "goc/signal.h"
#include "goc/context.h"
#include "goc/errgroup.h"
#include "goc/singleflight.h"
#include "goc/memo.h"

#endif
