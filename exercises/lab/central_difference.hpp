// exercises/lab/central_difference.hpp - the numerical derivative every gradient check rests on.
//
// Nothing to read first. For a function f of one number,
//   f'(x) ~ (f(x + h) - f(x - h)) / (2 h)        (central difference: error ~ h^2 f'''(x) / 6)
// while the one-sided (f(x + h) - f(x)) / h has an error ~ h f''(x) / 2, much larger for the same h.
// tests/gradcheck.hpp applies the same formula to every input of an op (in float32, where rounding
// limits how small h can be: see its header).
#pragma once

#include <functional>

namespace minigan::lab {

inline double central_difference(const std::function<double(double)>& f, double x, double h) {
    // EXERCISE E01 begin
    // f'(x) ~ (f(x + h) - f(x - h)) / (2 h)
    return (f(x + h) - f(x - h)) / (2.0 * h);
    // EXERCISE E01 end
}

}  // namespace minigan::lab
