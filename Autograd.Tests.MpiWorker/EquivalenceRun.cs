using System.Numerics;
using Autograd.Distributed;
using Autograd.Nn;

namespace Autograd.Tests.MpiWorker;

/// <summary>One training setup that is run on 2 ranks and in one process, and compared.</summary>
/// <param name="Name">File-name safe id.</param>
/// <param name="Double">float64 (true) or float32.</param>
/// <param name="Batch">The global batch (rows); odd sizes split unevenly.</param>
/// <param name="Steps">Optimizer steps.</param>
/// <param name="Optimizer">sgd, momentum or adam.</param>
/// <param name="LearningRate">Learning rate.</param>
/// <param name="BucketBytes">DataParallel's bucket size (small: many messages, parameters split across them).</param>
/// <param name="UnusedOnRank1">An extra parameter used only by global row 0: rank 1 never reaches it.</param>
/// <param name="PerturbAtStep">After this step rank 1 nudges one weight by one ulp (the replica check must notice).</param>
public sealed record EquivalenceCase(string Name, bool Double, int Batch, int Steps, string Optimizer, double LearningRate,
    int BucketBytes = 16 << 20, bool UnusedOnRank1 = false, int? PerturbAtStep = null)
{
    /// <summary>The cases the tests run, in one mpiexec job.</summary>
    public static IReadOnlyList<EquivalenceCase> All { get; } =
    [
        new("double-sgd", true, 4, 8, "sgd", 0.5),
        new("double-momentum-uneven-buckets", true, 5, 8, "momentum", 0.2, BucketBytes: 200),
        new("double-adam-unused", true, 4, 8, "adam", 0.01, UnusedOnRank1: true),
        // Gentler learning rates in float: at the double cases' rates 8 steps amplify rounding to ~150 ulp
        // on a few weights (1.85e-5 relative; the same weight differs by 2.6e-14 in double).
        new("float-sgd", false, 4, 8, "sgd", 0.1),
        new("float-momentum-uneven-buckets", false, 5, 8, "momentum", 0.05, BucketBytes: 200),
        new("float-adam-unused", false, 4, 8, "adam", 0.003, UnusedOnRank1: true),
        new("double-perturbed", true, 4, 8, "sgd", 0.5, PerturbAtStep: 3),
    ];

    /// <summary>The parameter the perturbed case nudges.</summary>
    public const string PerturbedParameter = "layers.1.W_v";
}

/// <summary>
/// Trains a GRU → LSTM char model (one-hot input, state carried per row over contiguous steps, clipping)
/// on synthetic text: all rows in one process (no communicator: the reference), or this rank's rows
/// with <see cref="DataParallel{T}"/>.
/// </summary>
public static class EquivalenceRun
{
    public const int Vocabulary = 11, Time = 7, Hidden = 9;

    /// <summary>The final weights, in <see cref="Module{T}.NamedParameters"/> order (then "extra"), as float64.</summary>
    /// <param name="messagesPerStep">The all-reduce calls per step (0 without a communicator).</param>
    public static double[] Train(EquivalenceCase c, ICommunicator? communicator, out int messagesPerStep)
        => c.Double ? Train<double>(c, communicator, out messagesPerStep) : Train<float>(c, communicator, out messagesPerStep);

    private static double[] Train<T>(EquivalenceCase c, ICommunicator? communicator, out int messagesPerStep) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int size = communicator?.Size ?? 1, rank = communicator?.Rank ?? 0;
        int rows = c.Batch / size + (rank < c.Batch % size ? 1 : 0);
        int firstRow = rank * (c.Batch / size) + Math.Min(rank, c.Batch % size);

        var model = new RnnModel<T>(
            new GruLayer<T>(Hidden, Hidden, new RecurrentOptions { Carry = CarryMode.PerSequence, Init = InitScheme.XavierOrthogonal, Seed = 1 }),
            new LstmLayer<T>(Hidden, Vocabulary, new RecurrentOptions { Carry = CarryMode.PerSequence, Init = InitScheme.XavierOrthogonal, Seed = 2 }));
        model.Build(Vocabulary);
        var extra = Tensor.FromArray(Enumerable.Range(0, Vocabulary).Select(i => T.CreateChecked(0.1 * Math.Sin(i))).ToArray(), 1, 1, Vocabulary);
        extra.RequiresGrad = true;
        var named = model.NamedParameters().ToList();
        if (c.UnusedOnRank1) named.Add(("extra", extra));
        var parameters = named.Select(p => p.Parameter).ToArray();

        var dp = communicator is null ? null : new DataParallel<T>(communicator, named, new DataParallelOptions { BucketBytes = c.BucketBytes, VerifyEvery = 1 });
        messagesPerStep = dp?.MessagesPerStep ?? 0;
        dp?.BroadcastParameters();
        T lr = T.CreateChecked(c.LearningRate);
        IOptimizer<T> optimizer = c.Optimizer switch
        {
            "adam" => new Adam<T>(parameters, lr),
            "momentum" => new Sgd<T>(parameters, lr, new SgdOptions(Momentum: 0.9)),
            _ => new Sgd<T>(parameters, lr),
        };

        var inputs = new int[rows * Time];
        var targets = new int[rows * Time];
        for (int step = 0; step < c.Steps; step++)
        {
            for (int r = 0; r < rows; r++)
                for (int t = 0; t < Time; t++)
                {
                    inputs[r * Time + t] = Symbol(firstRow + r, step * Time + t);
                    targets[r * Time + t] = Symbol(firstRow + r, step * Time + t + 1);
                }
            optimizer.ZeroGrad();
            var logits = model.ForwardOneHot(inputs, rows, Time, Vocabulary);
            if (c.UnusedOnRank1 && firstRow == 0)
            {
                // Only global row 0 uses the extra bias: a rank without that row never reaches it.
                var mask = new T[rows];
                mask[0] = T.One;
                logits = logits + Tensor.FromArray(mask, rows, 1, 1) * extra;
            }
            var loss = Losses.CrossEntropy(logits, targets);
            loss.Backward();
            dp?.SynchronizeGradients(rows / (double)c.Batch);
            GradClip.ClipNorm(parameters, T.CreateChecked(1.0));
            optimizer.Step();
            if (c.PerturbAtStep == step && rank == 1)
            {
                var p = named.Single(n => n.Name == EquivalenceCase.PerturbedParameter).Parameter;
                var values = p.ToArray();
                values[0] = T.BitIncrement(values[0]);
                p.CopyFrom(values);
            }
        }
        dp?.VerifyReplicas();
        return parameters.SelectMany(p => p.ToArray()).Select(double.CreateChecked).ToArray();
    }

    /// <summary>Row <paramref name="row"/>'s text at <paramref name="position"/>: a fixed pseudo-random walk, different per row.</summary>
    private static int Symbol(int row, int position)
    {
        uint h = (uint)(row * 7919 + position * 104729) ^ 0x9E3779B9u;
        h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 12;
        return (int)((position + row + (h % 3)) % Vocabulary);
    }
}
