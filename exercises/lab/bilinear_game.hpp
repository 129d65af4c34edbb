// exercises/lab/bilinear_game.hpp - the bilinear game V(a, b) = a * b (Goodfellow's NIPS 2016 tutorial).
//
// Nothing to read first. Player a minimises V, player b maximises it; the only equilibrium is
// (0, 0). Gradient play: dV/da = b, dV/db = a, so a steps downhill (a -= lr * b) and b uphill
// (b += lr * a). Simultaneous updates (both from the old point) rotate and grow the radius by
// sqrt(1 + lr^2) every step: the players spiral out. Alternating updates (b sees the new a), as a
// GAN's train_step does (D first, then G against the updated D), stay on a bounded orbit.
// Like GAN training, neither converges to (0, 0): the game is about the dynamics, not the optimum.
#pragma once

namespace minigan::lab {

// One step of both players from the same point (a, b).
inline void simultaneous_step(float& a, float& b, float lr) {
    // EXERCISE E12 begin
    // a' = a - lr * dV/da = a - lr * b;   b' = b + lr * dV/db = b + lr * a   (both from the old a, b)
    const float a_old = a, b_old = b;
    a = a_old - lr * b_old;
    b = b_old + lr * a_old;
    // EXERCISE E12 end
}

// One step of a, then one step of b against the new a.
inline void alternating_step(float& a, float& b, float lr) {
    // EXERCISE E12 begin
    // a' = a - lr * b;   b' = b + lr * a'   (b answers the a that has just moved)
    a = a - lr * b;
    b = b + lr * a;
    // EXERCISE E12 end
}

}  // namespace minigan::lab
