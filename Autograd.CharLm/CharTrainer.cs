using System.Diagnostics;
using Autograd.Distributed;
using Autograd.Nn;

namespace Autograd.CharLm;

/// <summary>What one optimizer step did.</summary>
/// <param name="Step">Steps taken so far, over all runs (this one included).</param>
/// <param name="Loss">This batch's mean training loss (nats/symbol).</param>
/// <param name="SmoothedLoss">An exponential moving average of the training loss (for display).</param>
/// <param name="LearningRate">The learning rate used for this step.</param>
/// <param name="GradientNorm">The global gradient norm before clipping.</param>
/// <param name="SymbolsPerSecond">Training throughput of this run so far.</param>
/// <param name="Elapsed">Time since this run started.</param>
/// <param name="Progress">Fraction of this run's budget (steps or time) used, in [0, 1].</param>
public sealed record StepReport(long Step, double Loss, double SmoothedLoss, double LearningRate, double GradientNorm,
    double SymbolsPerSecond, TimeSpan Elapsed, double Progress);

/// <summary>A validation measurement during training.</summary>
/// <param name="Step">The step after which it was taken.</param>
/// <param name="Validation">The loss on (a prefix of) the validation text.</param>
/// <param name="IsBest">Whether it is the best so far (and so was saved as the best checkpoint).</param>
/// <param name="Elapsed">Time since this run started.</param>
public sealed record EvaluationReport(long Step, EvaluationResult Validation, bool IsBest, TimeSpan Elapsed);

/// <summary>One row of the loss curve.</summary>
/// <param name="Step">Steps so far, over all runs.</param>
/// <param name="ElapsedSeconds">Training time so far, over all runs.</param>
/// <param name="TrainLoss">The step's training loss (nats/symbol).</param>
/// <param name="ValidationLoss">The validation loss measured after this step, if one was.</param>
/// <param name="LearningRate">The learning rate of the step.</param>
public sealed record LossPoint(long Step, double ElapsedSeconds, double TrainLoss, double? ValidationLoss, double LearningRate);

/// <summary>How a run ended.</summary>
/// <param name="Step">Steps so far, over all runs.</param>
/// <param name="StepsThisRun">Steps this run took.</param>
/// <param name="BestValidationLoss">The best validation loss so far (nats/symbol).</param>
/// <param name="LastValidation">The validation measurement at the end of the run.</param>
/// <param name="Elapsed">This run's wall time.</param>
/// <param name="Cancelled">Whether the run stopped on cancellation rather than its budget.</param>
/// <param name="SkippedSteps">Batches skipped because their loss or gradient was not finite.</param>
public sealed record TrainingResult(long Step, long StepsThisRun, double BestValidationLoss, EvaluationResult LastValidation,
    TimeSpan Elapsed, bool Cancelled, int SkippedSteps);

/// <summary>Training diverged: many consecutive batches had a non-finite loss or gradient.</summary>
public sealed class TrainingDivergedException : InvalidOperationException
{
    /// <summary>With a message saying how many batches in a row were skipped.</summary>
    /// <param name="message">The message.</param>
    public TrainingDivergedException(string message) : base(message) { }

    /// <summary>With the default message.</summary>
    public TrainingDivergedException() { }

    /// <summary>With a message and the exception that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="inner">The cause.</param>
    public TrainingDivergedException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>
/// Trains a <see cref="CharLanguageModel"/> on text ids: contiguous batches
/// (<see cref="SequenceBatcher"/>) with the state carried per sequence (truncated BPTT), mean
/// cross-entropy, backward, optional global-norm clipping, an optimizer step, a learning-rate
/// schedule; validation at intervals; the best model by validation loss saved as a checkpoint.
/// </summary>
/// <remarks>
/// Given an <see cref="ICommunicator"/> (e.g. <see cref="MpiCommunicator"/> under <c>mpiexec</c>) it trains
/// data-parallel: see <see cref="CharTrainer(CharLanguageModel, int[], int[], TrainingOptions, TrainingState?, ICommunicator?)"/>.
/// </remarks>
public sealed partial class CharTrainer
{
    private const int MaxConsecutiveSkips = 20;

    private readonly CharLanguageModel _model;
    private readonly int[] _validation;
    private readonly TrainingOptions _options;
    private readonly SequenceBatcher _batcher;
    private readonly IOptimizer<float> _optimizer;
    private readonly Tensor<float>[] _parameters;
    private readonly List<LossPoint> _history = [];
    private readonly double _priorSeconds;
    private long _step;
    private double _best;
    private CharLanguageModel? _evaluationCopy;
    private readonly IReadOnlyDictionary<string, Tensor<float>>? _resumeCarry;
    private readonly TrainingState? _resume;

    /// <summary>Prepares a run.</summary>
    /// <param name="model">The model to train (in place).</param>
    /// <param name="trainIds">Training text ids.</param>
    /// <param name="validationIds">Validation text ids (at least 2).</param>
    /// <param name="options">Settings; validated here.</param>
    /// <param name="resumeFrom">State from a checkpoint to continue from: step count, data position,
    /// best loss and (if the optimizer kind matches) the optimizer's state.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Invalid options, too little training text for one batch, too little validation text, or ids outside the vocabulary.</exception>
    public CharTrainer(CharLanguageModel model, int[] trainIds, int[] validationIds, TrainingOptions options, TrainingState? resumeFrom = null)
        : this(model, trainIds, validationIds, options, resumeFrom, null) { }

    /// <summary>
    /// Prepares a run that is data-parallel over <paramref name="communicator"/>'s ranks (every rank
    /// constructs its trainer alike and calls <see cref="Run"/>): <see cref="TrainingOptions.BatchSize"/>
    /// is the global batch, and each rank trains on its own contiguous rows of it (as equal as possible);
    /// the gradients are averaged over all ranks before clipping and the optimizer step, so the replicas
    /// stay bitwise identical and the run matches one process training on the whole batch (up to
    /// rounding). Rank 0 alone evaluates and writes checkpoints (other ranks ignore the paths); the
    /// learning-rate schedule and time budget follow rank 0's clock; cancellation on any rank stops all.
    /// </summary>
    /// <param name="model">The model to train (in place); identical on every rank.</param>
    /// <param name="trainIds">Training text ids (the whole text on every rank).</param>
    /// <param name="validationIds">Validation text ids (at least 2).</param>
    /// <param name="options">Settings; validated here. The batch size is the global batch.</param>
    /// <param name="resumeFrom">State from a checkpoint to continue from, or null.</param>
    /// <param name="communicator">The ranks; null trains in this process alone, as the other constructor.</param>
    /// <exception cref="ArgumentNullException">A required argument is null.</exception>
    /// <exception cref="ArgumentException">As the other constructor; also a global batch smaller than the number of ranks.</exception>
    public CharTrainer(CharLanguageModel model, int[] trainIds, int[] validationIds, TrainingOptions options, TrainingState? resumeFrom, ICommunicator? communicator)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(trainIds);
        ArgumentNullException.ThrowIfNull(validationIds);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (validationIds.Length < 2)
            throw new ArgumentException($"CharTrainer: the validation text has {validationIds.Length} symbol(s); at least 2 are needed.", nameof(validationIds));
        int v = model.Vocabulary.Count;
        if (trainIds.Any(id => (uint)id >= (uint)v) || validationIds.Any(id => (uint)id >= (uint)v))
            throw new ArgumentException($"CharTrainer: ids must be in [0, {v}).", nameof(trainIds));
        _model = model;
        _validation = options.EvaluationSymbols is int n && n < validationIds.Length ? validationIds[..n] : validationIds;
        _options = options;
        _batcher = new SequenceBatcher(trainIds, options.BatchSize, options.SequenceLength);
        (_communicator, _firstRow, _rows) = (communicator, 0, options.BatchSize);
        if (communicator is not null) Shard(communicator, trainIds, ref _firstRow, ref _rows);
        _parameters = model.Network.Parameters().ToArray();
        float lr = (float)options.LearningRate;
        _optimizer = options.Optimizer switch
        {
            OptimizerKind.Adam => new Adam<float>(_parameters, lr),
            OptimizerKind.Momentum => new Sgd<float>(_parameters, lr, new SgdOptions(Momentum: options.Momentum)),
            _ => new Sgd<float>(_parameters, lr),
        };
        _best = double.PositiveInfinity;
        if (resumeFrom is not null)
        {
            _step = resumeFrom.Step;
            _best = resumeFrom.BestValidationLoss;
            _priorSeconds = resumeFrom.ElapsedSeconds;
            _batcher.Seek(resumeFrom.BatchPosition);
            _resumeCarry = resumeFrom.CarriedState;
            model.Network.DropoutMasksDrawn = resumeFrom.DropoutMasksDrawn;
            _resume = resumeFrom;
            if (resumeFrom.Options.Optimizer == options.Optimizer && resumeFrom.OptimizerState.Count > 0)
            {
                _optimizer.LoadStateDict(resumeFrom.OptimizerState);
                OptimizerStateRestored = true;
            }
        }
    }

    /// <summary>Where to save the best model by validation loss (with training state); null: not saved.</summary>
    public string? BestCheckpointPath { get; init; }

    /// <summary>Where to save the model at the end of the run (with training state); null: not saved.</summary>
    public string? LastCheckpointPath { get; init; }

    /// <summary>
    /// In data-parallel training, every this many steps check that all ranks hold bitwise-identical weights
    /// (<see cref="DataParallelOptions.VerifyEvery"/>; a <see cref="ReplicaDivergenceException"/> if not); 0 (the default) never.
    /// </summary>
    public int ReplicaCheckInterval { get; init; }

    /// <summary>Whether the optimizer's state came from the checkpoint resumed from.</summary>
    public bool OptimizerStateRestored { get; }

    /// <summary>
    /// How many symbols at the start of the validation text the periodic evaluations read
    /// (<see cref="TrainingOptions.EvaluationSymbols"/>, at most the whole text).
    /// </summary>
    public int PeriodicValidationSymbols => _validation.Length;

    /// <summary>
    /// Whether this trainer wrote <see cref="BestCheckpointPath"/> (a resumed run that never beats the
    /// checkpoint's best validation loss writes none).
    /// </summary>
    public bool SavedBestThisRun { get; private set; }

    /// <summary>Raised after every optimizer step.</summary>
    public event Action<StepReport>? StepCompleted;

    /// <summary>Raised after every validation measurement (on rank 0 only, in data-parallel training).</summary>
    public event Action<EvaluationReport>? Evaluated;

    /// <summary>The loss curve of this run so far.</summary>
    public IReadOnlyList<LossPoint> History => _history;

    /// <summary>
    /// Trains until the step limit or the time budget is reached, or until cancelled (which ends
    /// the run normally: it still evaluates and saves). Then evaluates once more and saves the
    /// last checkpoint.
    /// </summary>
    /// <param name="cancellationToken">Ends the run early (normally: it still evaluates and saves).</param>
    /// <returns>Where the run ended: steps, best and last validation loss, time, whether it was cancelled.</returns>
    /// <exception cref="TrainingDivergedException">Training diverged: many consecutive batches had a non-finite loss or gradient.</exception>
    /// <exception cref="IOException">A checkpoint could not be written.</exception>
    /// <exception cref="RankMismatchException">Data-parallel: the ranks were set up differently (thrown on every rank).</exception>
    /// <exception cref="ReplicaDivergenceException">Data-parallel: a replica check found different weights.</exception>
    public TrainingResult Run(CancellationToken cancellationToken = default)
    {
        var o = _options;
        int b = o.BatchSize, t = o.SequenceLength;
        var inputs = new int[_rows * t];
        var targets = new int[_rows * t];
        var clock = Stopwatch.StartNew();
        long stepsThisRun = 0;
        int skipped = 0, consecutiveSkips = 0;
        double smoothed = double.NaN;
        long lastEvaluatedStep = -1;
        EvaluationResult last = default;
        bool cancelled = false;
        _model.Network.Train();
        _model.Network.ResetState();
        RestoreCarriedState();
        StartDataParallel();

        while (true)
        {
            var (stop, now) = Agree(cancellationToken.IsCancellationRequested, clock.Elapsed);
            if (stop) { cancelled = true; break; }
            double progress = Progress(stepsThisRun, now);
            if (progress >= 1) break;

            double lr = LearningRate(progress);
            _optimizer.LearningRate = (float)lr;
            if (_batcher.Next(inputs, targets, _firstRow, _rows)) _model.Network.ResetState();
            _optimizer.ZeroGrad();
            var logits = _model.Forward(inputs, _rows, t);
            var loss = Losses.CrossEntropy(logits, targets);
            loss.Backward();
            logits.Dispose(); // the next step's output reuses its buffer
            double lossValue = AverageGradients(loss.Item());
            double norm = double.NaN;
            bool finite = double.IsFinite(lossValue);
            if (finite)
            {
                try
                {
                    // Without clipping the norm is still measured: a NaN or infinite gradient must never reach the weights.
                    norm = GradClip.ClipNorm(_parameters, o.ClipNorm > 0 ? (float)o.ClipNorm : float.PositiveInfinity);
                }
                catch (NonFiniteGradientException)
                {
                    finite = false;
                }
            }
            if (!finite)
            {
                // One bad batch should not poison the weights: drop it and the state it produced.
                _optimizer.ZeroGrad();
                _model.Network.ResetState();
                skipped++;
                if (++consecutiveSkips >= MaxConsecutiveSkips)
                    throw new TrainingDivergedException($"CharTrainer: training diverged at step {_step} ({consecutiveSkips} consecutive batches with a non-finite loss or gradient); try a lower learning rate or clipping.");
                continue;
            }
            consecutiveSkips = 0;
            _optimizer.Step();
            _step++;
            stepsThisRun++;
            smoothed = double.IsNaN(smoothed) ? lossValue : 0.95 * smoothed + 0.05 * lossValue;
            var elapsed = clock.Elapsed;
            _history.Add(new LossPoint(_step, _priorSeconds + elapsed.TotalSeconds, lossValue, null, lr));
            StepCompleted?.Invoke(new StepReport(_step, lossValue, smoothed, lr, norm,
                stepsThisRun * (double)(b * t) / Math.Max(elapsed.TotalSeconds, 1e-9), elapsed, Math.Min(1, Progress(stepsThisRun, elapsed))));

            if (stepsThisRun % o.EvaluationInterval == 0)
            {
                last = EvaluateAndSave(clock, cancellationToken);
                lastEvaluatedStep = _step;
            }
        }

        if (lastEvaluatedStep != _step && stepsThisRun > 0)
            last = EvaluateAndSave(clock, CancellationToken.None);
        else if (stepsThisRun == 0 && IsRoot)
            last = EvaluateOnly(CancellationToken.None);
        var carried = GatherCarriedState();
        if (LastCheckpointPath is not null && IsRoot)
            Checkpoint.Save(LastCheckpointPath, _model, State(clock.Elapsed, carried));
        return new TrainingResult(_step, stepsThisRun, _best, last, clock.Elapsed, cancelled, skipped);
    }

    /// <summary>On resume, continue each stream from the state it had when the checkpoint was saved.</summary>
    private void RestoreCarriedState()
    {
        if (_resumeCarry is null || _resumeCarry.Count == 0 || _batcher.AtEpochStart) return;
        var layers = _model.Network.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not RecurrentLayer<float> layer) continue; // a char model's layers are all recurrent
            var state = layer.Cell.StateNames.Select(n => _resumeCarry.GetValueOrDefault($"layers.{i}.{n}")).ToArray();
            // A different batch size means different streams: their old state does not apply.
            if (state[0] is null || state.Any(s => s is not null && s.Size(0) != _options.BatchSize)) continue;
            layer.SetCarriedState([.. state.Select(s => s is null ? null : OwnRows(s))]);
        }
    }

    private Dictionary<string, Tensor<float>> CarriedState()
    {
        var state = new Dictionary<string, Tensor<float>>(StringComparer.Ordinal);
        if (_batcher.AtEpochStart) return state; // the next batch resets anyway
        var layers = _model.Network.Layers;
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] is not RecurrentLayer<float> layer) continue;
            for (int k = 0; k < layer.CarriedState.Count; k++)
                if (layer.CarriedState[k] is { } s) state[$"layers.{i}.{layer.Cell.StateNames[k]}"] = s;
        }
        return state;
    }

    private EvaluationResult EvaluateOnly(CancellationToken cancellationToken)
    {
        _evaluationCopy ??= _model.Clone();
        _evaluationCopy.CopyWeightsFrom(_model);
        return Evaluator.Evaluate(_evaluationCopy, _validation, cancellationToken: cancellationToken);
    }

    private EvaluationResult EvaluateAndSave(Stopwatch clock, CancellationToken cancellationToken)
    {
        var carried = GatherCarriedState();
        if (!IsRoot) return default;
        EvaluationResult result;
        try
        {
            result = EvaluateOnly(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Cancelled mid-evaluation: measure again without the token so the run still ends with a number.
            result = EvaluateOnly(CancellationToken.None);
        }
        bool best = result.NatsPerSymbol < _best;
        if (best)
        {
            _best = result.NatsPerSymbol;
            if (BestCheckpointPath is not null)
            {
                Checkpoint.Save(BestCheckpointPath, _model, State(clock.Elapsed, carried));
                SavedBestThisRun = true;
            }
        }
        if (_history.Count > 0 && _history[^1].Step == _step)
            _history[^1] = _history[^1] with { ValidationLoss = result.NatsPerSymbol };
        Evaluated?.Invoke(new EvaluationReport(_step, result, best, clock.Elapsed));
        return result;
    }

    private TrainingState State(TimeSpan elapsed, Dictionary<string, Tensor<float>> carried) => new()
    {
        Step = _step,
        BatchPosition = _batcher.Position,
        BestValidationLoss = _best,
        ElapsedSeconds = _priorSeconds + elapsed.TotalSeconds,
        Options = _options,
        OptimizerState = _optimizer.StateDict(),
        CarriedState = carried,
        DropoutMasksDrawn = _model.Network.DropoutMasksDrawn,
    };

    /// <summary>The larger of the step fraction and the time fraction of this run's budget.</summary>
    private double Progress(long steps, TimeSpan elapsed)
    {
        // The first step is at the peak: the setup before it (building, loading) is not training time.
        if (steps == 0) return 0;
        double p = 0;
        if (_options.MaxSteps is long max) p = Math.Max(p, steps / (double)max);
        if (_options.TimeBudget is TimeSpan budget) p = Math.Max(p, elapsed / budget);
        return p;
    }

    private double LearningRate(double progress)
    {
        double peak = _options.LearningRate;
        if (_options.Schedule == LearningRateSchedule.Constant) return peak;
        double floor = peak * _options.FinalLearningRateFactor;
        return floor + (peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * Math.Clamp(progress, 0, 1)));
    }
}
