namespace Autograd;

public sealed partial class Tensor<T>
{
    /// <summary>Elementwise sum with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator +(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Add(b);
    }
    /// <summary>Elementwise difference with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator -(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Subtract(b);
    }
    /// <summary>Elementwise product with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator *(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Multiply(b);
    }
    /// <summary>Elementwise quotient with NumPy broadcasting.</summary>
    /// <exception cref="ArgumentNullException">An operand is null.</exception>
    /// <exception cref="ArgumentException">The shapes cannot be broadcast together.</exception>
    public static Tensor<T> operator /(Tensor<T> a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return a.Divide(b);
    }
    /// <summary>Elementwise negation.</summary>
    /// <exception cref="ArgumentNullException">The operand is null.</exception>
    public static Tensor<T> operator -(Tensor<T> a)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Negate();
    }

    // Scalars on either side broadcast as rank-0 tensors; a null tensor operand throws ArgumentNullException.
    public static Tensor<T> operator +(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Add(Tensor.Scalar(b));
    }
    public static Tensor<T> operator +(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Add(b);
    }
    public static Tensor<T> operator -(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Subtract(Tensor.Scalar(b));
    }
    public static Tensor<T> operator -(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Subtract(b);
    }
    public static Tensor<T> operator *(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Multiply(Tensor.Scalar(b));
    }
    public static Tensor<T> operator *(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Multiply(b);
    }
    public static Tensor<T> operator /(Tensor<T> a, T b)
    {
        ArgumentNullException.ThrowIfNull(a);
        return a.Divide(Tensor.Scalar(b));
    }
    public static Tensor<T> operator /(T a, Tensor<T> b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return Tensor.Scalar(a).Divide(b);
    }
}
