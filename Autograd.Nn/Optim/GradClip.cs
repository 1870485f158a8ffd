using System.Numerics;

namespace Autograd.Nn;

/// <summary>Raised when a gradient norm is NaN or infinite; no gradient was changed.</summary>
public sealed class NonFiniteGradientException : ArithmeticException
{
    /// <summary>Creates the exception with a message naming the norm and where it was measured.</summary>
    /// <param name="message">One line.</param>
    public NonFiniteGradientException(string message) : base(message) { }

    /// <summary>Creates the exception with a default message.</summary>
    public NonFiniteGradientException() { }

    /// <summary>Creates the exception with a message and the error that caused it.</summary>
    /// <param name="message">One line.</param>
    /// <param name="inner">The cause.</param>
    public NonFiniteGradientException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>Gradient clipping, as <c>torch.nn.utils.clip_grad_norm_</c> / <c>clip_grad_value_</c>.</summary>
public static class GradClip
{
    /// <summary>
    /// Scales all gradients together so their global L2 norm is at most <paramref name="maxNorm"/>
    /// (factor maxNorm / (norm + 1e-6), only when norm &gt; maxNorm). Parameters without a gradient are skipped.
    /// </summary>
    /// <param name="parameters">The parameters whose gradients are clipped together (e.g. <see cref="Module{T}.Parameters"/>).</param>
    /// <param name="maxNorm">The largest global norm allowed (&gt; 0).</param>
    /// <returns>The global norm before clipping.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">A parameter is null (nothing is changed).</exception>
    /// <exception cref="NonFiniteGradientException">The norm is NaN or infinite (gradients are left untouched).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not positive.</exception>
    public static T ClipNorm<T>(IEnumerable<Tensor<T>> parameters, T maxNorm) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > T.Zero)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "ClipNorm: maxNorm must be > 0.");
        var grads = Gradients(parameters, "ClipNorm");
        double sum = 0;
        foreach (var g in grads) sum += g.SquaredNorm();
        double norm = Math.Sqrt(sum);
        if (!double.IsFinite(norm))
            throw new NonFiniteGradientException($"ClipNorm: the gradient norm is {norm}; a NaN or infinite gradient reached the parameters.");
        if (norm > double.CreateChecked(maxNorm))
        {
            T scale = maxNorm / T.CreateChecked(norm + 1e-6);
            foreach (var g in grads) g.MultiplyInPlace(scale);
        }
        return T.CreateChecked(norm);
    }

    /// <summary>Clamps every gradient element to [-limit, limit] (the seed's ±2 clipping).</summary>
    /// <param name="parameters">The parameters whose gradients are clamped; those without a gradient are skipped.</param>
    /// <param name="limit">The largest magnitude allowed (&gt; 0).</param>
    /// <exception cref="ArgumentNullException"><paramref name="parameters"/> is null.</exception>
    /// <exception cref="ArgumentException">A parameter is null (nothing is changed).</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is not positive.</exception>
    public static void ClipValue<T>(IEnumerable<Tensor<T>> parameters, T limit) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(limit > T.Zero)) throw new ArgumentOutOfRangeException(nameof(limit), limit, "ClipValue: limit must be > 0.");
        foreach (var g in Gradients(parameters, "ClipValue")) g.ClampInPlace(-limit, limit);
    }

    /// <summary>The gradients that exist, read before any is changed so a null parameter changes nothing.</summary>
    private static Tensor<T>[] Gradients<T>(IEnumerable<Tensor<T>> parameters, string op) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var grads = new List<Tensor<T>>();
        int i = 0;
        foreach (var p in parameters)
        {
            if (p is null) throw new ArgumentException($"{op}: parameters[{i}] is null.", nameof(parameters));
            if (p.Grad is { } g) grads.Add(g);
            i++;
        }
        return [.. grads];
    }
}
