using System.Numerics;

namespace Autograd.Nn;

/// <summary>How a layer draws its initial parameters.</summary>
public enum InitScheme
{
    /// <summary>
    /// The seed's: every weight and bias ~ N(0, σ²) with σ = 0.01 for GRU and LSTM, and
    /// σ = 2 / (fan_in + fan_out) for the vanilla RNN.
    /// </summary>
    Seed,

    /// <summary>
    /// Xavier/Glorot uniform for input and output weights, an orthogonal matrix for each
    /// recurrent (hidden-to-hidden) block, zero biases.
    /// </summary>
    XavierOrthogonal,

    /// <summary>PyTorch's for recurrent layers: every weight and bias ~ U(−1/√H, 1/√H).</summary>
    PyTorch,
}

/// <summary>Deterministic initialisers: the same <see cref="Random"/> seed gives the same numbers.</summary>
public static class Init
{
    /// <summary>N(0, σ²) samples of the given shape.</summary>
    /// <param name="random">The source of randomness (consumed).</param>
    /// <param name="std">σ.</param>
    /// <param name="shape">The shape of the result.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> or <paramref name="shape"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="std"/> is negative, NaN or infinite (PyTorch's <c>normal_</c> refuses a negative σ too).</exception>
    /// <exception cref="ArgumentException">A negative dimension.</exception>
    public static Tensor<T> Normal<T>(Random random, double std, params int[] shape) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentNullException.ThrowIfNull(shape);
        if (!(std >= 0 && double.IsFinite(std)))
            throw new ArgumentOutOfRangeException(nameof(std), std, "Init.Normal: the standard deviation must be finite and >= 0.");
        return Tensor.Randn<T>(random, shape) * T.CreateChecked(std);
    }

    /// <summary>Xavier/Glorot uniform: U(-a, a), a = √(6 / (fan_in + fan_out)), for a (fan_in, fan_out) matrix.</summary>
    /// <param name="random">The source of randomness (consumed).</param>
    /// <param name="fanIn">Rows.</param>
    /// <param name="fanOut">Columns.</param>
    /// <returns>A (fanIn, fanOut) matrix.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException">A size is negative.</exception>
    public static Tensor<T> XavierUniform<T>(Random random, int fanIn, int fanOut) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegative(fanIn);
        ArgumentOutOfRangeException.ThrowIfNegative(fanOut);
        T a = T.CreateChecked(Math.Sqrt(6.0 / ((double)fanIn + fanOut)));
        return Tensor.Uniform(random, -a, a, fanIn, fanOut);
    }

    /// <summary>A random (n, n) orthogonal matrix: Gram–Schmidt on Gaussian rows, in double.</summary>
    /// <param name="random">The source of randomness (consumed).</param>
    /// <param name="n">Rows and columns.</param>
    /// <exception cref="ArgumentNullException"><paramref name="random"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="n"/> is negative.</exception>
    public static Tensor<T> Orthogonal<T>(Random random, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(random);
        var m = Tensor.Randn<double>(random, n, n).ToArray();
        for (int i = 0; i < n; i++)
        {
            var ri = m.AsSpan(i * n, n);
            for (int j = 0; j < i; j++)
            {
                var rj = m.AsSpan(j * n, n);
                double dot = 0;
                for (int k = 0; k < n; k++) dot += ri[k] * rj[k];
                for (int k = 0; k < n; k++) ri[k] -= dot * rj[k];
            }
            double norm = 0;
            for (int k = 0; k < n; k++) norm += ri[k] * ri[k];
            norm = Math.Sqrt(norm);
            for (int k = 0; k < n; k++) ri[k] /= norm;
        }
        return Tensor.FromArray(m.Select(T.CreateChecked).ToArray(), n, n);
    }
}
