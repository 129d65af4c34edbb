// test_conformance.cpp - every op, Adam and one full GAN step against PyTorch's numbers.
//
// tests/data/vectors.json was computed by PyTorch 1.13 in float64 (schema and tolerances in
// tests/data/vectors-README.md). MINIGAN_VECTORS=/path/to/other.json runs another file of the
// same schema (other shapes, seeds, batch sizes). A case whose op we do not know FAILS: a
// conformance suite that silently skips is worse than none.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>

#include <minigan/core.hpp>

using namespace minigan;
using json = nlohmann::json;

namespace {

std::string vectors_path() {
    if (const char* p = std::getenv("MINIGAN_VECTORS")) return p;
    if (const char* d = std::getenv("MINIGAN_TEST_DATA")) return std::string(d) + "/vectors.json";
    return "tests/data/vectors.json";
}

Tensor to_tensor(const json& j) {
    Shape shape = j.at("shape").get<Shape>();
    std::vector<float> data;
    for (const auto& v : j.at("data")) data.push_back(static_cast<float>(v.get<double>()));
    return Tensor(shape, data);
}

// Compares like numpy.allclose, |got - ref| <= atol + rtol |ref|, and records every mismatch.
struct Checker {
    std::string case_name;
    std::vector<std::string> failures;
    void compare(const std::string& what, const Tensor& got, const json& ref_json, double rtol, double atol) {
        Tensor ref = to_tensor(ref_json);
        if (got.shape != ref.shape) {
            failures.push_back(what + ": shape " + shape_str(got.shape) + ", PyTorch has " + shape_str(ref.shape));
            return;
        }
        size_t bad = 0, worst_i = 0;
        double worst = 0.0;
        for (size_t i = 0; i < ref.numel(); ++i) {
            double err = std::fabs(static_cast<double>(got[i]) - ref[i]);
            double excess = err - (atol + rtol * std::fabs(static_cast<double>(ref[i])));
            if (!(excess <= 0.0)) {  // also catches NaN
                if (bad == 0 || excess > worst) { worst = excess; worst_i = i; }
                ++bad;
            }
        }
        if (bad)
            failures.push_back(what + ": " + std::to_string(bad) + " of " + std::to_string(ref.numel()) +
                               " elements off, e.g. [" + std::to_string(worst_i) + "] got " +
                               std::to_string(got[worst_i]) + " want " + std::to_string(ref[worst_i]));
    }
};

constexpr double kRtol = 1e-4, kAtol = 1e-5;

// Run backward with the case's grad_output and compare the output and every input's gradient.
void check_forward_backward(Checker& ck, const json& c, Var y, std::map<std::string, Var>& inputs) {
    ck.compare("output", y.value(), c.at("output"), kRtol, kAtol);
    y.backward(to_tensor(c.at("grad_output")));
    for (const auto& [name, ref] : c.at("grads").items()) {
        auto it = inputs.find(name);
        if (it == inputs.end()) { ck.failures.push_back("grads: unknown input '" + name + "'"); continue; }
        ck.compare("grad of " + name, it->second.grad(), ref, kRtol, kAtol);
    }
}

void run_op_case(Checker& ck, const json& c) {
    const std::string op = c.at("op");
    const json& attrs = c.at("attrs");
    std::map<std::string, Var> in;
    for (const auto& [name, t] : c.at("inputs").items()) in[name] = Var(to_tensor(t), true);
    auto get = [&](const char* name) { return in.count(name) ? in.at(name) : Var(); };
    auto attr_int = [&](const char* k) { return attrs.at(k).get<int>(); };

    if (op == "linear") {
        check_forward_backward(ck, c, linear(in.at("x"), in.at("weight"), get("bias")), in);
    } else if (op == "conv2d") {
        check_forward_backward(ck, c, conv2d(in.at("x"), in.at("weight"), get("bias"), attr_int("stride"), attr_int("padding")), in);
    } else if (op == "conv_transpose2d") {
        Var y = conv_transpose2d(in.at("x"), in.at("weight"), get("bias"), attr_int("stride"), attr_int("padding"),
                                 attr_int("output_padding"));
        check_forward_backward(ck, c, y, in);
    } else if (op == "batch_norm") {
        bool training = attrs.at("training");
        Tensor rm, rv;
        if (training) {
            int C = in.at("x").shape()[1];
            rm = full({C}, attrs.value("running_mean_init", 0.0f));
            rv = full({C}, attrs.value("running_var_init", 1.0f));
        } else {  // constants: no gradients
            rm = in.at("running_mean").value();
            rv = in.at("running_var").value();
            in.erase("running_mean");
            in.erase("running_var");
        }
        Var y = batch_norm(in.at("x"), in.at("weight"), in.at("bias"), rm, rv, training,
                           attrs.at("momentum").get<float>(), attrs.at("eps").get<float>());
        check_forward_backward(ck, c, y, in);
        if (training) {
            ck.compare("running_mean_after", rm, c.at("running_mean_after"), kRtol, kAtol);
            ck.compare("running_var_after", rv, c.at("running_var_after"), kRtol, kAtol);
        }
    } else if (op == "leaky_relu") {
        check_forward_backward(ck, c, leaky_relu(in.at("x"), attrs.at("negative_slope").get<float>()), in);
    } else if (op == "relu") {
        check_forward_backward(ck, c, relu(in.at("x")), in);
    } else if (op == "tanh") {
        check_forward_backward(ck, c, minigan::tanh(in.at("x")), in);
    } else if (op == "sigmoid") {
        check_forward_backward(ck, c, sigmoid(in.at("x")), in);
    } else if (op == "bce") {
        check_forward_backward(ck, c, bce(in.at("input"), in.at("target")), in);
    } else if (op == "bce_with_logits") {
        check_forward_backward(ck, c, bce_with_logits(in.at("input"), in.at("target")), in);
    } else if (op == "mse") {
        check_forward_backward(ck, c, mse(in.at("input"), in.at("target")), in);
    } else if (op == "matmul") {
        check_forward_backward(ck, c, matmul(in.at("a"), in.at("b")), in);
    } else if (op == "sum" || op == "mean") {
        const json& dim = attrs.at("dim");
        bool keepdim = attrs.value("keepdim", false);
        Var x = in.at("x"), y;
        if (dim.is_null()) {
            y = op == "sum" ? sum(x) : mean(x);
            if (keepdim) y = reshape(y, Shape(x.shape().size(), 1));
        } else {
            y = op == "sum" ? sum(x, dim.get<int>(), keepdim) : mean(x, dim.get<int>(), keepdim);
        }
        check_forward_backward(ck, c, y, in);
    } else if (op == "reshape") {
        check_forward_backward(ck, c, reshape(in.at("x"), attrs.at("shape").get<Shape>()), in);
    } else if (op == "flatten") {
        check_forward_backward(ck, c, flatten(in.at("x"), attr_int("start_dim"), attr_int("end_dim")), in);
    } else {
        ck.failures.push_back("unknown op '" + op + "': the conformance test does not know it (no silent skip)");
    }
}

void run_adam_case(Checker& ck, const json& c) {
    const json& a = c.at("attrs");
    if (a.value("weight_decay", 0.0) != 0.0 || a.value("amsgrad", false))
        ck.failures.push_back("adam: weight_decay / amsgrad are not implemented");
    Var param(to_tensor(c.at("inputs").at("param")), true);
    optim::Adam adam({param}, a.at("lr").get<float>(), a.at("beta1").get<float>(), a.at("beta2").get<float>(),
                     a.at("eps").get<float>());
    const json& grads = c.at("grad_sequence");
    const json& after = c.at("param_after");
    for (size_t t = 0; t < grads.size(); ++t) {
        param.grad() = to_tensor(grads[t]);
        adam.step();
        ck.compare("param after step " + std::to_string(t + 1), param.value(), after.at(t), kRtol, kAtol);
    }
    ck.compare("output", param.value(), c.at("output"), kRtol, kAtol);
}

// ---- gan_step: one D step and one G step of a tiny DCGAN ---------------------------------

// "ConvTranspose2d(4,2,k=4,s=2,p=1,bias=False)" -> the value after "k=", "s=", "p=".
int layer_attr(const json& lines, const std::string& layer, const std::string& key, int fallback) {
    for (const auto& l : lines) {
        std::string s = l.get<std::string>();
        if (s.rfind(layer + ":", 0) != 0) continue;
        std::smatch m;
        if (std::regex_search(s, m, std::regex("[(,]\\s*" + key + "=(\\d+)"))) return std::stoi(m[1]);
    }
    return fallback;
}

void run_gan_step_case(Checker& ck, const json& c) {
    const json& a = c.at("attrs");
    const json& in = c.at("inputs");
    auto T = [&](const char* name) { return to_tensor(in.at(name)); };
    const float slope = a.value("leaky_slope", 0.2f), bn_eps = a.value("bn_eps", 1e-5f), bn_m = a.value("bn_momentum", 0.1f);
    const json gen = a.value("generator", json::array()), dis = a.value("discriminator", json::array());

    // Sizes come from the tensors, so another vector file may use other widths and batch sizes.
    Tensor fc_w = T("G.fc.weight"), dc1_w = T("G.deconv1.weight"), dc2_w = T("G.deconv2.weight");
    const int latent = fc_w.shape[1], fc_out = fc_w.shape[0], c0 = dc1_w.shape[0];
    const int side0 = static_cast<int>(std::lround(std::sqrt(fc_out / c0)));
    auto G = nn::Sequential(
        nn::make<nn::Linear>(latent, fc_out, false), nn::make<nn::BatchNorm1d>(fc_out, bn_m, bn_eps),
        nn::make<nn::LeakyReLU>(slope), nn::make<nn::Reshape>(Shape{c0, side0, side0}),
        nn::make<nn::ConvTranspose2d>(c0, dc1_w.shape[1], dc1_w.shape[2], layer_attr(gen, "deconv1", "s", 2),
                                      layer_attr(gen, "deconv1", "p", 1), layer_attr(gen, "deconv1", "op", 0), false),
        nn::make<nn::BatchNorm2d>(dc1_w.shape[1], bn_m, bn_eps), nn::make<nn::LeakyReLU>(slope),
        nn::make<nn::ConvTranspose2d>(dc2_w.shape[0], dc2_w.shape[1], dc2_w.shape[2], layer_attr(gen, "deconv2", "s", 2),
                                      layer_attr(gen, "deconv2", "p", 1), layer_attr(gen, "deconv2", "op", 0), false),
        nn::make<nn::Tanh>());
    Tensor c1_w = T("D.conv1.weight"), c2_w = T("D.conv2.weight"), dfc_w = T("D.fc.weight");
    auto D = nn::Sequential(
        nn::make<nn::Conv2d>(c1_w.shape[1], c1_w.shape[0], c1_w.shape[2], layer_attr(dis, "conv1", "s", 2),
                             layer_attr(dis, "conv1", "p", 1)),
        nn::make<nn::LeakyReLU>(slope),
        nn::make<nn::Conv2d>(c2_w.shape[1], c2_w.shape[0], c2_w.shape[2], layer_attr(dis, "conv2", "s", 2),
                             layer_attr(dis, "conv2", "p", 1)),
        nn::make<nn::LeakyReLU>(slope), nn::make<nn::Flatten>(), nn::make<nn::Linear>(dfc_w.shape[1], dfc_w.shape[0]));

    // PyTorch names -> our Sequential's state_dict names.
    const std::map<std::string, std::string> g_names = {
        {"G.fc.weight", "0.weight"},           {"G.bn0.weight", "1.weight"},      {"G.bn0.bias", "1.bias"},
        {"G.bn0.running_mean", "1.running_mean"}, {"G.bn0.running_var", "1.running_var"},
        {"G.deconv1.weight", "4.weight"},      {"G.bn1.weight", "5.weight"},      {"G.bn1.bias", "5.bias"},
        {"G.bn1.running_mean", "5.running_mean"}, {"G.bn1.running_var", "5.running_var"},
        {"G.deconv2.weight", "7.weight"}};
    const std::map<std::string, std::string> d_names = {
        {"D.conv1.weight", "0.weight"}, {"D.conv1.bias", "0.bias"}, {"D.conv2.weight", "2.weight"},
        {"D.conv2.bias", "2.bias"},     {"D.fc.weight", "5.weight"}, {"D.fc.bias", "5.bias"}};
    auto load = [&](nn::Module& m, const std::map<std::string, std::string>& names) {
        StateDict sd = m.state_dict();
        for (auto& [ours, t] : sd)
            for (auto& [theirs, mine] : names)
                if (mine == ours) t = T(theirs.c_str());
        m.load_state_dict(sd);
    };
    load(G, g_names);
    load(D, d_names);
    auto param = [](nn::Module& m, const std::string& name) -> Var {
        for (auto& [n, p] : m.named_parameters()) if (n == name) return p;
        throw std::runtime_error("no parameter " + name);
    };
    auto buffer = [](nn::Module& m, const std::string& name) -> Tensor {
        for (auto& [n, t] : m.state_dict()) if (n == name) return t;
        throw std::runtime_error("no buffer " + name);
    };

    optim::Adam optD(D.parameters(), a.at("lr").get<float>(), a.at("beta1").get<float>(), a.at("beta2").get<float>(),
                     a.at("eps").get<float>());
    optim::Adam optG(G.parameters(), a.at("lr").get<float>(), a.at("beta1").get<float>(), a.at("beta2").get<float>(),
                     a.at("eps").get<float>());
    const double r3 = 1e-3;
    const json& mid = c.at("intermediates");

    // 1. fake = G(z): the only G forward (training-mode BatchNorm, running stats updated once).
    Var z(T("z")), real(T("real"));
    Var fake = G(z);
    ck.compare("intermediates.fake", fake.value(), mid.at("fake"), r3, kAtol);
    // 2. D step on real and detached fake.
    Var logits_real = D(real), logits_fake = D(fake.detach());
    ck.compare("intermediates.d_logits_real", logits_real.value(), mid.at("d_logits_real"), r3, kAtol);
    ck.compare("intermediates.d_logits_fake", logits_fake.value(), mid.at("d_logits_fake"), r3, kAtol);
    Var d_loss_real = bce_with_logits(logits_real, constant_like(logits_real, 1.0f));
    Var d_loss_fake = bce_with_logits(logits_fake, constant_like(logits_fake, 0.0f));
    Var d_loss = d_loss_real + d_loss_fake;
    ck.compare("d_loss_real", d_loss_real.value(), c.at("d_loss_real"), r3, kAtol);
    ck.compare("d_loss_fake", d_loss_fake.value(), c.at("d_loss_fake"), r3, kAtol);
    ck.compare("d_loss", d_loss.value(), c.at("d_loss"), r3, kAtol);
    optD.zero_grad();
    d_loss.backward();
    for (const auto& [theirs, ref] : c.at("d_step_grads").items())
        ck.compare("d_step_grads." + theirs, param(D, d_names.at(theirs)).grad(), ref, r3, kAtol);
    optD.step();
    // 3. G step: the updated D, the same fake graph; D frozen (its weights get no gradient).
    D.set_requires_grad(false);
    Var logits_after = D(fake);
    ck.compare("intermediates.d_logits_fake_after_d_update", logits_after.value(),
               mid.at("d_logits_fake_after_d_update"), r3, kAtol);
    Var g_loss = bce_with_logits(logits_after, constant_like(logits_after, 1.0f));
    ck.compare("g_loss", g_loss.value(), c.at("g_loss"), r3, kAtol);
    optG.zero_grad();
    g_loss.backward();
    for (const auto& [theirs, ref] : c.at("g_step_grads").items())
        ck.compare("g_step_grads." + theirs, param(G, g_names.at(theirs)).grad(), ref, r3, kAtol);
    optG.step();
    D.set_requires_grad(true);

    Tensor both({2}, std::vector<float>{d_loss.item(), g_loss.item()});
    ck.compare("output", both, c.at("output"), r3, kAtol);
    for (const auto& [theirs, ref] : c.at("params_after").items()) {
        bool is_g = theirs.rfind("G.", 0) == 0;
        nn::Module& m = is_g ? static_cast<nn::Module&>(G) : static_cast<nn::Module&>(D);
        const std::string& ours = (is_g ? g_names : d_names).at(theirs);
        Tensor got = ours.find("running_") != std::string::npos ? buffer(m, ours) : param(m, ours).value();
        ck.compare("params_after." + theirs, got, ref, kRtol, kAtol);
    }
}

}  // namespace

TEST_CASE("conformance: every case of the PyTorch vector file matches") {
    const std::string path = vectors_path();
    std::ifstream f(path);
    REQUIRE_MESSAGE(f.good(), "cannot open conformance vectors '" << path << "' (set MINIGAN_VECTORS)");
    json doc = json::parse(f);
    REQUIRE(doc.at("cases").is_array());
    const size_t total = doc.at("cases").size();
    REQUIRE_MESSAGE(total > 0, "no cases in " << path);
    size_t passed = 0;
    std::map<std::string, int> per_op;
    for (const json& c : doc.at("cases")) {
        Checker ck{c.value("name", std::string("?")), {}};
        const std::string op = c.value("op", std::string("?"));
        try {
            if (op == "adam") run_adam_case(ck, c);
            else if (op == "gan_step") run_gan_step_case(ck, c);
            else run_op_case(ck, c);
        } catch (const std::exception& e) {
            ck.failures.push_back(std::string("threw: ") + e.what());
        }
        for (const std::string& msg : ck.failures) FAIL_CHECK(ck.case_name << " [" << op << "] " << msg);
        if (ck.failures.empty()) ++passed, ++per_op[op];
    }
    std::string summary;
    for (auto& [op, n] : per_op) summary += " " + op + ":" + std::to_string(n);
    MESSAGE(path << ": " << passed << " of " << total << " cases passed;" << summary);
    CHECK(passed == total);
}
