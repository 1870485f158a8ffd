namespace Autograd;

/// <summary>The per-thread switch that makes new op results draw from the backend's pool (see <see cref="Tensor.Recycling"/>).</summary>
internal static class PoolScope
{
    [ThreadStatic] private static int t_depth;

    public static bool Active => t_depth > 0;

    /// <summary>Enters a pooled scope; dispose to leave (scopes nest).</summary>
    public static Scope Enter()
    {
        t_depth++;
        return new Scope(true);
    }

    /// <summary>Leaves pooling for the duration of the returned scope (e.g. for tensors that escape).</summary>
    public static Scope Suspend()
    {
        int saved = t_depth;
        t_depth = 0;
        return new Scope(false, saved);
    }

    public readonly struct Scope(bool entered, int saved = 0) : IDisposable
    {
        public void Dispose()
        {
            if (entered) t_depth--;
            else t_depth = saved;
        }
    }
}
