namespace Autograd;

/// <summary>Raised by <see cref="GradCheck.Assert"/> when an analytical gradient disagrees with finite differences.</summary>
public sealed class GradCheckException : Exception
{
    /// <summary>With <paramref name="message"/>.</summary>
    /// <param name="message">What went wrong.</param>
    public GradCheckException(string message) : base(message) { }

    /// <summary>With the default message.</summary>
    public GradCheckException() { }

    /// <summary>With <paramref name="message"/>, caused by <paramref name="inner"/>.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="inner">The cause.</param>
    public GradCheckException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Finite-difference gradient check, like <c>torch.autograd.gradcheck</c>.</summary>
public static class GradCheck
{
    /// <summary>
    /// Compares the gradient that <see cref="Tensor{T}.Backward(Tensor{T}, bool)"/> computes for each input with
    /// central differences (f(x+eps) - f(x-eps)) / 2eps, in double. A non-scalar output is reduced
    /// with a fixed random weighting, Σ f(x) ⊙ R, so every output element is checked.
    /// An element passes when |analytical - numerical| ≤ absTolerance + relTolerance · |numerical|.
    /// Inputs that have <c>RequiresGrad</c> set are checked; if none has it, all are.
    /// </summary>
    /// <exception cref="GradCheckException">A mismatch: the message names the input index, the element and both values.</exception>
    /// <exception cref="ArgumentNullException"><paramref name="function"/> or <paramref name="inputs"/> is null.</exception>
    /// <exception cref="ArgumentException">No inputs, a null input, or the function returns null or an empty tensor.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="eps"/> is not finite and positive, or a tolerance is negative or NaN.</exception>
    public static void Assert(Func<Tensor<double>[], Tensor<double>> function, Tensor<double>[] inputs,
        double eps = 1e-6, double absTolerance = 1e-5, double relTolerance = 1e-3)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Length == 0) throw new ArgumentException("GradCheck: needs at least one input.", nameof(inputs));
        for (int i = 0; i < inputs.Length; i++)
            if (inputs[i] is null) throw new ArgumentException($"GradCheck: inputs[{i}] is null.", nameof(inputs));
        if (!(eps > 0 && double.IsFinite(eps))) throw new ArgumentOutOfRangeException(nameof(eps), eps, "GradCheck: eps must be finite and > 0.");
        if (!(absTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(absTolerance), absTolerance, "GradCheck: absTolerance must be >= 0.");
        if (!(relTolerance >= 0)) throw new ArgumentOutOfRangeException(nameof(relTolerance), relTolerance, "GradCheck: relTolerance must be >= 0.");
        bool any = inputs.Any(t => t.RequiresGrad);
        var checkedInputs = inputs.Select(t => !any || t.RequiresGrad).ToArray();
        for (int i = 0; i < inputs.Length; i++)
        {
            if (checkedInputs[i]) inputs[i].RequiresGrad = true;
            inputs[i].ZeroGrad();
        }

        var output = function(inputs) ?? throw new ArgumentException("GradCheck: the function returned null.", nameof(function));
        if (output.Length == 0) throw new ArgumentException("GradCheck: the function returned an empty tensor.", nameof(function));
        var weights = new double[output.Length];
        var rng = new Random(12345);
        for (int i = 0; i < weights.Length; i++) weights[i] = output.Length == 1 ? 1.0 : rng.NextDouble() * 2 - 1;
        if (!output.RequiresGrad)
            throw new GradCheckException("GradCheck: the output does not depend on any checked input (it has no graph).");
        output.Backward(Tensor.FromArray(weights, output.ShapeArray));

        double Objective()
        {
            using var _ = Tensor.NoGrad();
            var y = function(inputs).ToArray();
            double s = 0;
            for (int i = 0; i < y.Length; i++) s += y[i] * weights[i];
            return s;
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            if (!checkedInputs[k]) continue;
            var x = inputs[k];
            var analytical = x.Grad?.ToArray() ?? new double[x.Length];
            var values = x.ToArray();
            for (int e = 0; e < x.Length; e++)
            {
                double orig = values[e];
                x.SetElement(e, orig + eps);
                double plus = Objective();
                x.SetElement(e, orig - eps);
                double minus = Objective();
                x.SetElement(e, orig);
                double numerical = (plus - minus) / (2 * eps);
                double a = analytical[e];
                if (!(Math.Abs(a - numerical) <= absTolerance + relTolerance * Math.Abs(numerical)))
                    throw new GradCheckException(
                        $"GradCheck: input {k} (shape {ShapeUtil.Format(x.Shape)}), element {e} {FormatIndex(x.ShapeArray, e)}: analytical {a:R} vs numerical {numerical:R}.");
            }
        }
    }

    private static string FormatIndex(int[] shape, int flat)
    {
        var idx = new int[shape.Length];
        for (int i = shape.Length - 1; i >= 0; i--) { idx[i] = flat % shape[i]; flat /= shape[i]; }
        return "[" + string.Join(", ", idx) + "]";
    }
}
