// The C API's error plumbing: a failure carries the status the C caller sees, the message is
// kept per thread for tinception_last_error(), and guarded() runs an entry point's body so
// that no exception crosses into C.
#pragma once
#include <exception>
#include <new>
#include <string>
#include <utility>

#include "error.hpp"
#include "tinception.h"

namespace tinception::c_api {

// A failure with the status the caller sees; anything else thrown is mapped in guarded().
struct Failure {
    tinception_status status;
    std::string message;
};

[[noreturn]] inline void fail(tinception_status status, std::string message) {
    throw Failure{status, std::move(message)};
}

// Keeps `message` as the calling thread's last error and returns `status`.
tinception_status record(tinception_status status, const std::string& message);

// Runs `body`; Error counts as `error_status` (what a refusal means at that call).
template <typename Body>
tinception_status guarded(tinception_status error_status, Body&& body) noexcept {
    try {
        body();
        return TINCEPTION_OK;
    } catch (const Failure& f) {
        return record(f.status, f.message);
    } catch (const Error& e) {
        switch (e.kind()) {
            case ErrorKind::internal: return record(TINCEPTION_INTERNAL_ERROR, e.what());
            case ErrorKind::unreadable: return record(TINCEPTION_IO_ERROR, e.what());
            case ErrorKind::out_of_memory: return record(TINCEPTION_OUT_OF_MEMORY, e.what());
            case ErrorKind::bad_input: break;
        }
        return record(error_status, e.what());
    } catch (const std::bad_alloc&) {
        return record(TINCEPTION_OUT_OF_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return record(TINCEPTION_INTERNAL_ERROR, std::string("internal error: ") + e.what());
    } catch (...) {
        return record(TINCEPTION_INTERNAL_ERROR, "internal error: unknown exception");
    }
}

}  // namespace tinception::c_api
