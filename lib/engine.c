/* engine.c: being written */
#include "config.h"
extern int htg_placeholder_engine;
