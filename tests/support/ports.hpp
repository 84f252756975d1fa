// Loopback ports for servers the tests start.
#pragma once

#include <chrono>

namespace wwp::test {

// A port nobody listens on right now (bind to 0, read it back, close). A parallel test can take
// it before the caller binds it, so fixtures that start servers retry with another.
int free_port();
// Polls until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);
// One connection attempt to 127.0.0.1:port.
bool port_open(int port);

}  // namespace wwp::test
