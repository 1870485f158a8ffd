using System.Numerics;

namespace Autograd.Nn;

/// <summary>
/// Variable-length batches, PyTorch's packed-sequence semantics on a padded (batch, time, ...) tensor:
/// sequence b is valid at steps 0 .. lengths[b]-1. Everything here is composed from engine ops
/// (masking is a multiplication by a constant, reversal an <c>IndexSelect</c>), so it has no backward of its own.
/// </summary>
public static class Sequences
{
    /// <summary>Checks that <paramref name="lengths"/> has one entry per sequence, each in 1..<paramref name="time"/>.</summary>
    /// <param name="lengths">The lengths; null (every sequence full length) passes.</param>
    /// <param name="batch">B.</param>
    /// <param name="time">T.</param>
    /// <param name="operation">Names the caller in the message.</param>
    /// <exception cref="ArgumentNullException"><paramref name="operation"/> is null.</exception>
    /// <exception cref="ArgumentException">Wrong count, or a length outside 1..T (the message names it).</exception>
    public static void Validate(int[]? lengths, int batch, int time, string operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        if (lengths is null) return;
        if (lengths.Length != batch)
            throw new ArgumentException($"{operation}: lengths has {lengths.Length} entries but the batch has {batch} sequences.", nameof(lengths));
        for (int b = 0; b < lengths.Length; b++)
            if (lengths[b] < 1 || lengths[b] > time)
                throw new ArgumentException($"{operation}: lengths[{b}] = {lengths[b]} is outside 1..{time} (the time axis).", nameof(lengths));
    }

    /// <summary>The (batch, time) mask: 1 where t &lt; lengths[b], else 0.</summary>
    /// <exception cref="ArgumentException">A length is outside 1..<paramref name="time"/>.</exception>
    public static Tensor<T> Mask<T>(int[] lengths, int time) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(lengths);
        Validate(lengths, lengths.Length, time, "Sequences.Mask");
        var m = new T[lengths.Length * time];
        for (int b = 0; b < lengths.Length; b++) m.AsSpan(b * time, lengths[b]).Fill(T.One);
        return Tensor.FromArray(m, lengths.Length, time);
    }

    /// <summary>
    /// Reverses each sequence of <paramref name="x"/> (batch, time, ...) within its own length: step t of
    /// sequence b becomes step lengths[b]-1-t; steps past a length stay where they are. Null lengths
    /// reverse the whole time axis. Applying it twice gives <paramref name="x"/> back; the gradient is
    /// reversed the same way.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="x"/> has rank &lt; 2, or bad lengths.</exception>
    public static Tensor<T> Reverse<T>(Tensor<T> x, int[]? lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2)
            throw new ArgumentException($"Sequences.Reverse: x must be (batch, time, ...), got shape {Tensor.FormatShape(x.Shape)}.", nameof(x));
        int batch = x.Size(0), time = x.Size(1);
        Validate(lengths, batch, time, "Sequences.Reverse");
        var shape = x.Shape.ToArray();
        return x.Reshape(batch * time, -1).IndexSelect(ReversedRows(lengths, batch, time)).Reshape(shape);
    }

    /// <summary>The row permutation of a (batch·time) row-major layout that reverses each sequence within its length.</summary>
    internal static int[] ReversedRows(int[]? lengths, int batch, int time)
    {
        var rows = new int[batch * time];
        for (int b = 0; b < batch; b++)
        {
            int n = lengths?[b] ?? time;
            for (int t = 0; t < time; t++) rows[b * time + t] = b * time + (t < n ? n - 1 - t : t);
        }
        return rows;
    }
}
