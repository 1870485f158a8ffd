using System.Numerics;

namespace Autograd.Nn;

/// <summary>Loss functions, composed from engine ops (the cross-entropy is the engine's fused primitive).</summary>
public static class Losses
{
    /// <summary>
    /// Mean softmax cross-entropy. <paramref name="logits"/> (..., classes); <paramref name="targets"/>
    /// one class index per position, row-major over the leading axes. Numerically stable.
    /// </summary>
    /// <param name="logits">(..., classes) unnormalised scores.</param>
    /// <param name="targets">One class id per position (the product of the leading axes).</param>
    /// <returns>A scalar: the mean negative log-likelihood over positions, in nats.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">The target count differs from the number of positions.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, classes).</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, int[] targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        return logits.CrossEntropy(targets);
    }

    /// <summary>
    /// The seed's many-to-one loss: only the last time step of <paramref name="logits"/> (batch, time, classes)
    /// is compared with <paramref name="targets"/> (one per sequence); every other step gets a zero gradient.
    /// </summary>
    /// <param name="logits">(batch, time, classes).</param>
    /// <param name="targets">One class id per sequence (batch ids).</param>
    /// <returns>A scalar: the mean negative log-likelihood of the last step over the batch, in nats.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="targets"/> is null.</exception>
    /// <exception cref="ArgumentException">Logits not rank 3, or not one target per sequence.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A target is outside [0, classes).</exception>
    public static Tensor<T> CrossEntropyLastStep<T>(Tensor<T> logits, int[] targets) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank != 3)
            throw new ArgumentException($"CrossEntropyLastStep: logits must be (batch, time, classes), got shape {Tensor.FormatShape(logits.Shape)}.", nameof(logits));
        return logits.Slice(1, logits.Size(1) - 1, 1).CrossEntropy(targets);
    }

    /// <summary>
    /// Mean softmax cross-entropy over the valid positions of a padded batch only: <paramref name="logits"/>
    /// (batch, time, classes), <paramref name="targets"/> one class per (batch, time) position, row-major;
    /// positions at t ≥ lengths[b] are left out of the mean (their targets are not read) and get a zero gradient.
    /// </summary>
    /// <exception cref="ArgumentException">Logits not rank 3, the wrong target count, or bad lengths (the message names them).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A valid position's target is outside [0, classes).</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, int[] targets, int[] lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(lengths);
        return CrossEntropy(logits, targets, PositionMask(logits, nameof(logits), lengths, "CrossEntropy"));
    }

    /// <summary>
    /// Mean softmax cross-entropy over the positions where <paramref name="mask"/> is true (Keras' masking):
    /// <paramref name="logits"/> (batch, time, classes); <paramref name="targets"/> and <paramref name="mask"/> one entry per
    /// (batch, time) position, row-major. Masked-out positions are not read and get a zero gradient.
    /// </summary>
    /// <exception cref="ArgumentException">Logits not rank 3, a target or mask count other than batch × time, or a mask that selects nothing.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A selected position's target is outside [0, classes).</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Tensor<T> CrossEntropy<T>(Tensor<T> logits, int[] targets, bool[] mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(mask);
        var rows = SelectedRows(logits, nameof(logits), mask, "CrossEntropy");
        if (targets.Length != mask.Length)
            throw new ArgumentException($"CrossEntropy: {targets.Length} targets for {mask.Length} (batch, time) positions of logits {Tensor.FormatShape(logits.Shape)}.", nameof(targets));
        return logits.Reshape(mask.Length, -1).IndexSelect(rows).CrossEntropy(Array.ConvertAll(rows, r => targets[r]));
    }

    /// <summary>
    /// The many-to-one loss on a padded batch: each sequence's logits at its own last valid step
    /// (t = lengths[b] - 1) against its target; every other step gets a zero gradient.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Logits not rank 3, not one target per sequence, or bad lengths.</exception>
    public static Tensor<T> CrossEntropyLastStep<T>(Tensor<T> logits, int[] targets, int[] lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(lengths);
        if (logits.Rank != 3)
            throw new ArgumentException($"CrossEntropyLastStep: logits must be (batch, time, classes), got shape {Tensor.FormatShape(logits.Shape)}.", nameof(logits));
        int batch = logits.Size(0), time = logits.Size(1);
        Sequences.Validate(lengths, batch, time, "CrossEntropyLastStep");
        var rows = new int[batch];
        for (int b = 0; b < batch; b++) rows[b] = b * time + lengths[b] - 1;
        return logits.Reshape(batch * time, -1).IndexSelect(rows).CrossEntropy(targets);
    }

    /// <summary>
    /// Mean of (prediction - target)² over the valid positions of a padded batch only: both (batch, time, ...)
    /// of equal shape; positions at t ≥ lengths[b] are left out of the mean and get a zero gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ or are not at least rank 2, or bad lengths.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Tensor<T> MeanSquaredError<T>(Tensor<T> prediction, Tensor<T> target, int[] lengths) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(lengths);
        return MeanSquaredError(prediction, target, PositionMask(prediction, nameof(prediction), lengths, "MeanSquaredError", minRank: 2));
    }

    /// <summary>
    /// Mean of (prediction - target)² over the (batch, time) positions where <paramref name="mask"/> is true (one
    /// entry per position, row-major; every feature of a selected position counts). Both (batch, time, ...) of equal shape.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ or are not at least rank 2, the mask length is not batch × time, or it selects nothing.</exception>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static Tensor<T> MeanSquaredError<T>(Tensor<T> prediction, Tensor<T> target, bool[] mask) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(mask);
        var rows = SelectedRows(prediction, nameof(prediction), mask, "MeanSquaredError", minRank: 2);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"MeanSquaredError: prediction shape {Tensor.FormatShape(prediction.Shape)} differs from target shape {Tensor.FormatShape(target.Shape)}.", nameof(target));
        int n = mask.Length;
        return (prediction.Reshape(n, -1).IndexSelect(rows) - target.Reshape(n, -1).IndexSelect(rows)).Square().Mean();
    }

    /// <summary>The (batch·time) mask of a padded (batch, time, ...) tensor (arguments checked for null by the caller; <paramref name="xName"/> is its parameter).</summary>
    private static bool[] PositionMask<T>(Tensor<T> x, string xName, int[] lengths, string op, int minRank = 3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRank(x, xName, op, minRank);
        int batch = x.Size(0), time = x.Size(1);
        Sequences.Validate(lengths, batch, time, op);
        var mask = new bool[batch * time];
        for (int b = 0; b < batch; b++) mask.AsSpan(b * time, lengths[b]).Fill(true);
        return mask;
    }

    /// <summary>The flat (batch·time) indices where <paramref name="mask"/> is true (arguments checked for null by the caller).</summary>
    private static int[] SelectedRows<T>(Tensor<T> x, string xName, bool[] mask, string op, int minRank = 3) where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckRank(x, xName, op, minRank);
        int positions = x.Size(0) * x.Size(1);
        if (mask.Length != positions)
            throw new ArgumentException($"{op}: the mask has {mask.Length} entries but {Tensor.FormatShape(x.Shape)} has {positions} (batch, time) positions.", nameof(mask));
        var rows = new List<int>();
        for (int i = 0; i < mask.Length; i++) if (mask[i]) rows.Add(i);
        if (rows.Count == 0) throw new ArgumentException($"{op}: the mask selects no position; the mean over none is undefined.", nameof(mask));
        return rows.ToArray();
    }

    private static void CheckRank<T>(Tensor<T> x, string xName, string op, int minRank) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (minRank == 3 ? x.Rank != 3 : x.Rank < minRank)
            throw new ArgumentException($"{op}: {xName} must be {(minRank == 3 ? "(batch, time, classes)" : "(batch, time, ...)")}, got shape {Tensor.FormatShape(x.Shape)}.", xName);
    }

    /// <summary>Mean of (prediction - target)² over all elements; the shapes must be equal.</summary>
    /// <param name="prediction">Any shape.</param>
    /// <param name="target">The same shape as <paramref name="prediction"/>; no gradient flows into it unless it requires one.</param>
    /// <returns>A scalar.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The shapes differ.</exception>
    public static Tensor<T> MeanSquaredError<T>(Tensor<T> prediction, Tensor<T> target) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(prediction);
        ArgumentNullException.ThrowIfNull(target);
        if (!prediction.Shape.SequenceEqual(target.Shape))
            throw new ArgumentException($"MeanSquaredError: prediction shape {Tensor.FormatShape(prediction.Shape)} differs from target shape {Tensor.FormatShape(target.Shape)}.", nameof(target));
        return (prediction - target).Square().Mean();
    }
}
