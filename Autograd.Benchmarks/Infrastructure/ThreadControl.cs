using System.Reflection;
using TorchSharp;

namespace Autograd.Benchmarks.Infrastructure;

/// <summary>Sets the number of compute threads for ours and for TorchSharp.</summary>
public static class ThreadControl
{
    /// <summary>
    /// Sets <c>Autograd.Kernels.Gemm.MaxThreads</c> (a static int field or property) when this build of the
    /// engine has it, found by reflection so the suite compiles against engines with or without it.
    /// </summary>
    /// <returns>True if the setting exists and was applied; false if ours runs at its default.</returns>
    public static bool TrySetOurs(int threads)
    {
        var gemm = typeof(Autograd.Tensor).Assembly.GetType("Autograd.Kernels.Gemm");
        if (gemm is null) return false;
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        if (gemm.GetProperty("MaxThreads", flags) is { CanWrite: true } property && property.PropertyType == typeof(int))
        {
            property.SetValue(null, threads);
            return true;
        }
        if (gemm.GetField("MaxThreads", flags) is { IsInitOnly: false, IsLiteral: false } field && field.FieldType == typeof(int))
        {
            field.SetValue(null, threads);
            return true;
        }
        return false;
    }

    /// <summary>Whether <see cref="TrySetOurs"/> can control ours in this build.</summary>
    public static bool OursControllable
    {
        get
        {
            var gemm = typeof(Autograd.Tensor).Assembly.GetType("Autograd.Kernels.Gemm");
            const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
            return gemm?.GetProperty("MaxThreads", flags) is { CanWrite: true } || gemm?.GetField("MaxThreads", flags) is { IsInitOnly: false, IsLiteral: false };
        }
    }

    /// <summary>Sets libtorch's intra-op thread count.</summary>
    public static void SetTorch(int threads) => torch.set_num_threads(threads);
}
