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
