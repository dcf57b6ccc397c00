// The per-thread last error, and the entry points that only name things: version, status
// names, the last error.
#include "c_api/c_api_status.hpp"

#include "build_info.hpp"

namespace tinception::c_api {
namespace {

thread_local std::string t_last_error;

}  // namespace

tinception_status record(tinception_status status, const std::string& message) {
    try {
        t_last_error = message;
    } catch (...) {
        t_last_error.clear();  // no memory for the message; the status still says what happened
    }
    return status;
}

}  // namespace tinception::c_api

extern "C" {

const char* tinception_version(void) { return tinception::build_info::version; }

const char* tinception_status_name(tinception_status status) {
    switch (status) {
        case TINCEPTION_OK: return "ok";
        case TINCEPTION_INVALID_ARGUMENT: return "invalid argument";
        case TINCEPTION_IO_ERROR: return "input/output error";
        case TINCEPTION_BAD_FORMAT: return "bad format";
        case TINCEPTION_OUT_OF_MEMORY: return "out of memory";
        case TINCEPTION_UNSUPPORTED: return "unsupported";
        case TINCEPTION_INTERNAL_ERROR: return "internal error";
        case TINCEPTION_STATUS_MAX_ENUM: break;
    }
    return "unknown status";
}

const char* tinception_last_error(void) { return tinception::c_api::t_last_error.c_str(); }

}  // extern "C"
