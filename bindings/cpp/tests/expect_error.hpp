// Shared by the C++ tests: asserting that a call throws cgp::Error with a given status and a
// message naming the problem.
#pragma once

#include "cgpredict.hpp"

#include <gtest/gtest.h>

#include <string>

// A call must throw cgp::Error with `status` and a message containing `fragment`.
template <typename F>
void expect_error(F &&call, cgp::Status status, const std::string &fragment) {
    try {
        call();
        ADD_FAILURE() << "no exception; expected " << cgp::to_string(status) << " with \"" << fragment << "\"";
    } catch (const cgp::Error &error) {
        EXPECT_EQ(error.status(), status) << error.what();
        EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
            << "\"" << error.what() << "\" lacks \"" << fragment << "\"";
    }
}
