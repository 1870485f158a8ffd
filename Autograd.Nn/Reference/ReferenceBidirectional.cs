using System.Numerics;

namespace Autograd.Nn.Reference;

/// <summary>
/// Hand-derived reference for a bidirectional pair of <see cref="ReferenceLayer{T}"/>s, on plain arrays, no
/// autodiff: the forward layer reads x; the reverse layer reads each sequence reversed within its own length
/// (step t of row b is step lengths[b]-1-t; padded steps stay in place) and its output is reversed back;
/// output (B, T, O_f + O_r) = [forward, reverse] per step. Backward splits the output gradient, reverses the
/// reverse half the same way, runs both layers' backward and adds their input gradients.
/// </summary>
public sealed class ReferenceBidirectional<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    private int _batch, _time;
    private int[]? _lengths;

    /// <summary>Pairs two layers that take the same input size.</summary>
    /// <exception cref="ArgumentException">The input sizes differ, or both are the same layer.</exception>
    public ReferenceBidirectional(ReferenceLayer<T> forwardLayer, ReferenceLayer<T> reverseLayer)
    {
        ArgumentNullException.ThrowIfNull(forwardLayer);
        ArgumentNullException.ThrowIfNull(reverseLayer);
        if (ReferenceEquals(forwardLayer, reverseLayer) || forwardLayer.InputSize != reverseLayer.InputSize)
            throw new ArgumentException($"ReferenceBidirectional: needs two layers of one input size, got {forwardLayer.InputSize} and {reverseLayer.InputSize}.", nameof(reverseLayer));
        ForwardLayer = forwardLayer;
        ReverseLayer = reverseLayer;
    }

    /// <summary>Reads the sequences as given.</summary>
    public ReferenceLayer<T> ForwardLayer { get; }

    /// <summary>Reads each sequence reversed within its length.</summary>
    public ReferenceLayer<T> ReverseLayer { get; }

    /// <summary>F.</summary>
    public int InputSize => ForwardLayer.InputSize;

    /// <summary>O_f + O_r.</summary>
    public int OutputSize => ForwardLayer.OutputSize + ReverseLayer.OutputSize;

    /// <summary>Runs both directions.</summary>
    /// <param name="input">(B, T, F) row-major.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="lengths">Per-sequence lengths in 1..T, or null for all T.</param>
    /// <returns>(B, T, O_f + O_r) row-major.</returns>
    /// <exception cref="ArgumentException">A length does not fit, or a bad length.</exception>
    public T[] Forward(ReadOnlySpan<T> input, int batch, int time, int[]? lengths = null)
    {
        int f = InputSize, of = ForwardLayer.OutputSize, or = ReverseLayer.OutputSize;
        var yf = ForwardLayer.Forward(input, batch, time, lengths);
        var yr = Reverse(ReverseLayer.Forward(Reverse(input, batch, time, f, lengths), batch, time, lengths), batch, time, or, lengths);
        var y = new T[batch * time * (of + or)];
        for (int p = 0; p < batch * time; p++)
        {
            yf.AsSpan(p * of, of).CopyTo(y.AsSpan(p * (of + or)));
            yr.AsSpan(p * or, or).CopyTo(y.AsSpan(p * (of + or) + of));
        }
        (_batch, _time, _lengths) = (batch, time, lengths?.ToArray());
        return y;
    }

    /// <summary>Back-propagates through the last <see cref="Forward"/>, adding into both layers' parameter gradients.</summary>
    /// <param name="dOutput">(B, T, O_f + O_r).</param>
    /// <returns>The input gradient (B, T, F).</returns>
    /// <exception cref="InvalidOperationException">Forward has not run.</exception>
    public T[] Backward(ReadOnlySpan<T> dOutput)
    {
        if (_batch == 0) throw new InvalidOperationException("ReferenceBidirectional.Backward: Forward has not run.");
        int f = InputSize, of = ForwardLayer.OutputSize, or = ReverseLayer.OutputSize, n = _batch * _time;
        ReferenceMath.CheckLength(dOutput.Length, n * (of + or), "ReferenceBidirectional.Backward", nameof(dOutput), $"({_batch}, {_time}, {of + or})");
        var df = new T[n * of];
        var dr = new T[n * or];
        for (int p = 0; p < n; p++)
        {
            dOutput.Slice(p * (of + or), of).CopyTo(df.AsSpan(p * of));
            dOutput.Slice(p * (of + or) + of, or).CopyTo(dr.AsSpan(p * or));
        }
        var dx = ForwardLayer.Backward(df);
        var dxr = Reverse(ReverseLayer.Backward(Reverse(dr, _batch, _time, or, _lengths)), _batch, _time, f, _lengths);
        for (int i = 0; i < dx.Length; i++) dx[i] += dxr[i];
        return dx;
    }

    /// <summary>(B, T, w) with each row's first lengths[b] steps in reverse order; the rest in place.</summary>
    public static T[] Reverse(ReadOnlySpan<T> x, int batch, int time, int width, int[]? lengths)
    {
        var y = new T[x.Length];
        for (int b = 0; b < batch; b++)
        {
            int n = lengths?[b] ?? time;
            for (int t = 0; t < time; t++)
                x.Slice((b * time + (t < n ? n - 1 - t : t)) * width, width).CopyTo(y.AsSpan((b * time + t) * width));
        }
        return y;
    }
}
