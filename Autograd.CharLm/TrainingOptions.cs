using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>The update rule used by <see cref="CharTrainer"/>.</summary>
public enum OptimizerKind
{
    /// <summary>Plain stochastic gradient descent.</summary>
    Sgd,
    /// <summary>SGD with momentum (<see cref="TrainingOptions.Momentum"/>).</summary>
    Momentum,
    /// <summary>Adam.</summary>
    Adam,
}

/// <summary>How the learning rate changes over a run.</summary>
public enum LearningRateSchedule
{
    /// <summary>The same learning rate throughout.</summary>
    Constant,
    /// <summary>
    /// Cosine decay from the learning rate to <see cref="TrainingOptions.FinalLearningRateFactor"/>
    /// times it, over the run's budget (steps or time, whichever is nearer its end).
    /// </summary>
    Cosine,
}

/// <summary>Settings of a <see cref="CharTrainer"/> run. Validate with <see cref="Validate"/>.</summary>
public sealed record TrainingOptions
{
    /// <summary>Time steps per batch (the truncated back-propagation window).</summary>
    public int SequenceLength { get; init; } = 100;

    /// <summary>Sequences per batch (independent contiguous streams of the training text).</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Stop after this many optimizer steps in this run (null: no step limit).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Stop once this much time has passed in this run (null: no time limit).</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>The (peak) learning rate.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>The update rule.</summary>
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    /// <summary>Momentum for <see cref="OptimizerKind.Momentum"/>.</summary>
    public double Momentum { get; init; } = 0.9;

    /// <summary>Gradients are rescaled so their global L2 norm is at most this (0: no clipping).</summary>
    public double ClipNorm { get; init; } = 5;

    /// <summary>The learning-rate schedule.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Cosine;

    /// <summary>With <see cref="LearningRateSchedule.Cosine"/>, the final learning rate as a fraction of the peak.</summary>
    public double FinalLearningRateFactor { get; init; } = 0.1;

    /// <summary>Evaluate on validation text every this many steps (and at the end).</summary>
    public int EvaluationInterval { get; init; } = 200;

    /// <summary>Symbols of validation text used by the periodic evaluations (null: all of it).</summary>
    public int? EvaluationSymbols { get; init; } = 30_000;

    /// <summary>Seeds weight initialization and dropout.</summary>
    public int Seed { get; init; }

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    /// <exception cref="ArgumentException">Neither a step limit nor a time budget is set.</exception>
    public void Validate()
    {
        Positive(SequenceLength, "sequence length");
        Positive(BatchSize, "batch size");
        Positive(EvaluationInterval, "evaluation interval");
        if (MaxSteps is { } steps && steps <= 0)
            throw new ArgumentOutOfRangeException(nameof(MaxSteps), steps, "TrainingOptions: the step limit must be positive.");
        if (TimeBudget is { } budget && budget <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(TimeBudget), budget, "TrainingOptions: the time budget must be positive.");
        if (MaxSteps is null && TimeBudget is null)
            throw new ArgumentException("TrainingOptions: set a step limit or a time budget (or both).");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate)))
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "TrainingOptions: the learning rate must be positive and finite.");
        if (!(Momentum >= 0 && Momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "TrainingOptions: momentum must be in [0, 1).");
        if (!(ClipNorm >= 0 && double.IsFinite(ClipNorm)))
            throw new ArgumentOutOfRangeException(nameof(ClipNorm), ClipNorm, "TrainingOptions: the clipping norm must be non-negative and finite (0 turns clipping off).");
        if (!(FinalLearningRateFactor > 0 && FinalLearningRateFactor <= 1))
            throw new ArgumentOutOfRangeException(nameof(FinalLearningRateFactor), FinalLearningRateFactor, "TrainingOptions: the final learning-rate factor must be in (0, 1].");
        if (EvaluationSymbols is { } e && e < 2)
            throw new ArgumentOutOfRangeException(nameof(EvaluationSymbols), e, "TrainingOptions: evaluation needs at least 2 symbols.");
    }

    private static void Positive(int value, string what)
    {
        if (value <= 0)
            throw new ArgumentOutOfRangeException(what, value, $"TrainingOptions: the {what} must be positive.");
    }
}
