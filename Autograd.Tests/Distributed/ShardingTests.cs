using Autograd.CharLm;
using Autograd.Distributed;
using Autograd.Nn.Serialization;
using Autograd.Tests.Training;

namespace Autograd.Tests.Distributed;

/// <summary>The parts of data-parallel training that need no MPI: row shards, fingerprints, and the trainer's distributed path on one rank.</summary>
public class ShardingTests
{
    /// <summary>
    /// Rank 0 of a group whose collectives return their input: exact for a group of one, where the
    /// trainer's distributed path must then equal the plain one.
    /// </summary>
    private sealed class Rank0Of(int size) : ICommunicator
    {
        public int Calls { get; private set; }
        public int Rank => 0;
        public int Size => size;
        public void AllReduce(Span<float> values, ReduceOperation operation) => Calls++;
        public void AllReduce(Span<double> values, ReduceOperation operation) => Calls++;
        public void AllReduce(Span<long> values, ReduceOperation operation) => Calls++;
        public void AllReduce(Span<ulong> values, ReduceOperation operation) => Calls++;
        public void Broadcast(Span<byte> data, int root) => Calls++;
    }

    [TestCase(5, 3)]
    [TestCase(4, 2)]
    [TestCase(7, 1)]
    public void RowRanges_TogetherAreTheWholeBatch_AcrossAnEpoch(int batch, int ranks)
    {
        int[] data = Enumerable.Range(0, 500).Select(i => (i * 37 + i / 7) % 23).ToArray();
        const int T = 6;
        var whole = new SequenceBatcher(data, batch, T);
        var shards = Enumerable.Range(0, ranks).Select(_ => new SequenceBatcher(data, batch, T)).ToArray();
        for (int step = 0; step < whole.BatchesPerEpoch + 3; step++)
        {
            var inputs = new int[batch * T];
            var targets = new int[batch * T];
            bool epoch = whole.Next(inputs, targets);
            int first = 0;
            for (int r = 0; r < ranks; r++)
            {
                int rows = batch / ranks + (r < batch % ranks ? 1 : 0);
                var x = new int[rows * T];
                var y = new int[rows * T];
                Assert.That(shards[r].Next(x, y, first, rows), Is.EqualTo(epoch), $"step {step}: epoch starts agree");
                Assert.That(x, Is.EqualTo(inputs[(first * T)..((first + rows) * T)]), $"step {step}, rank {r}: inputs");
                Assert.That(y, Is.EqualTo(targets[(first * T)..((first + rows) * T)]), $"step {step}, rank {r}: targets");
                first += rows;
            }
            Assert.That(first, Is.EqualTo(batch));
        }
    }

    [TestCase(-1, 2)]
    [TestCase(0, 0)]
    [TestCase(3, 2)]
    public void RowRangeOutsideTheBatch_Throws(int first, int rows)
    {
        var batcher = new SequenceBatcher(new int[100], 4, 5);
        Assert.That(() => batcher.Next(new int[Math.Max(rows, 0) * 5], new int[Math.Max(rows, 0) * 5], first, rows), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void Fingerprint_SeesOneUlp_AndIsTheSameForTheSameBits()
    {
        float[] a = Enumerable.Range(0, 1001).Select(i => MathF.Sin(i)).ToArray();
        var b = a.ToArray();
        var f1 = new Fingerprint();
        f1.Add<float>(a);
        var f2 = new Fingerprint();
        f2.Add<float>(b);
        Assert.That(f2.Value, Is.EqualTo(f1.Value));
        for (int i = 0; i < a.Length; i += 97)
        {
            var c = a.ToArray();
            c[i] = MathF.BitIncrement(c[i]);
            var f = new Fingerprint();
            f.Add<float>(c);
            Assert.That(f.Value, Is.Not.EqualTo(f1.Value), $"one ulp at element {i}");
        }
        Assert.That(Fingerprint.Of("ab"), Is.Not.EqualTo(Fingerprint.Of("ba")));
        var split = new Fingerprint();
        split.Add("a");
        split.Add("bc");
        var joined = new Fingerprint();
        joined.Add("ab");
        joined.Add("c");
        Assert.That(split.Value, Is.Not.EqualTo(joined.Value), "lengths are part of the fingerprint");
    }

    [Test]
    public void TrainerOnOneRank_IsBitwiseThePlainTrainer()
    {
        string dir = TinyModels.TempDir();
        try
        {
            var ids = TinyModels.Create().Vocabulary.Encode(TinyModels.Corpus());
            var (train, validation) = TextCorpus.Split(ids, 0.9);
            var options = new TrainingOptions { BatchSize = 3, SequenceLength = 9, MaxSteps = 12, EvaluationInterval = 5, EvaluationSymbols = 100 };
            string plain = Path.Combine(dir, "plain.safetensors"), group = Path.Combine(dir, "group.safetensors");
            new CharTrainer(TinyModels.Create(), train, validation, options) { LastCheckpointPath = plain }.Run();
            var communicator = new Rank0Of(1);
            new CharTrainer(TinyModels.Create(), train, validation, options, null, communicator) { LastCheckpointPath = group, ReplicaCheckInterval = 4 }.Run();
            Assert.That(communicator.Calls, Is.GreaterThan(3 * 12), "every step went through the communicator");
            var a = SafeTensorsFile.Load(plain);
            var b = SafeTensorsFile.Load(group);
            Assert.That(b.Names, Is.EquivalentTo(a.Names));
            Assert.That(a.Names, Has.Some.StartsWith("carry."));
            foreach (string name in a.Names)
                Assert.That(b.GetBytes(name).ToArray(), Is.EqualTo(a.GetBytes(name).ToArray()), name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void GlobalBatchSmallerThanTheRanks_Throws()
    {
        var ids = TinyModels.Create().Vocabulary.Encode(TinyModels.Corpus());
        var (train, validation) = TextCorpus.Split(ids, 0.9);
        Assert.That(() => new CharTrainer(TinyModels.Create(), train, validation, new TrainingOptions { BatchSize = 2, MaxSteps = 1 }, null, new Rank0Of(3)),
            Throws.ArgumentException.With.Message.Contains("global batch size 2 is smaller than the number of ranks 3"));
    }
}
