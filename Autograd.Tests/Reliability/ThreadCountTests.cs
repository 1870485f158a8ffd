using Autograd.Nn;

namespace Autograd.Tests.Reliability;

/// <summary>
/// Tensor.NumThreads changes speed, never results: every kernel splits its work into pieces that do not
/// depend on the thread count. Sizes are chosen so GEMM, elementwise, cross-entropy and optimizer kernels
/// all cross their parallel thresholds.
/// </summary>
[NonParallelizable]
public class ThreadCountTests
{
    private static float[][] Train(int threads)
    {
        int saved = Tensor.NumThreads;
        Tensor.NumThreads = threads;
        try
        {
            var layer = new LstmLayer<float>(128, 65, new RecurrentOptions { Seed = 3, Carry = CarryMode.PerSequence });
            var rng = new Random(9);
            var ids = Enumerable.Range(0, 32 * 20).Select(_ => rng.Next(65)).ToArray();
            var targets = Enumerable.Range(0, 32 * 20).Select(_ => rng.Next(65)).ToArray();
            layer.Build(65);
            var adam = new Adam<float>(layer.Parameters(), 1e-2f);
            for (int step = 0; step < 3; step++)
            {
                adam.ZeroGrad();
                Losses.CrossEntropy(layer.ForwardOneHot(ids, 32, 20, 65), targets).Backward();
                GradClip.ClipNorm(layer.Parameters(), 1f);
                adam.Step();
            }
            return layer.Parameters().Select(p => p.ToArray()).ToArray();
        }
        finally
        {
            Tensor.NumThreads = saved;
        }
    }

    [Test]
    public void OneAndTwoThreads_GiveBitwiseIdenticalTraining()
    {
        var one = Train(1);
        var two = Train(2);
        Assert.That(two.Length, Is.EqualTo(one.Length));
        for (int i = 0; i < one.Length; i++)
            Assert.That(two[i], Is.EqualTo(one[i]), $"parameter {i}");
    }

    [Test]
    public void NumThreads_RefusesLessThanOne()
    {
        Assert.That(() => Tensor.NumThreads = 0, Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(Tensor.NumThreads, Is.GreaterThanOrEqualTo(1));
    }
}
