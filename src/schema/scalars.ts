// Date and DateTime inputs are bounded to the years 1900–2999: graphql-scalars accepts 0000-01-01
// and +275760 dates that no calendar computation here (or PostgreSQL's date arithmetic in them)
// is meant for.
import { GraphQLError, GraphQLScalarType, type ValueNode } from 'graphql';
import { DateResolver, DateTimeResolver } from 'graphql-scalars';

export const minYear = 1900;
export const maxYear = 2999;

function bounded(scalar: GraphQLScalarType): GraphQLScalarType {
  const config = scalar.toConfig();
  const check = (value: unknown) => {
    const year = value instanceof Date ? value.getUTCFullYear() : Number.NaN;
    if (!(year >= minYear && year <= maxYear)) {
      throw new GraphQLError(`${scalar.name} must be in the years ${minYear}–${maxYear}.`, {
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    return value;
  };
  return new GraphQLScalarType({
    ...config,
    parseValue: (value) => check(config.parseValue!(value)),
    parseLiteral: (node: ValueNode, variables) => check(config.parseLiteral!(node, variables)),
  });
}

export const BoundedDateResolver = bounded(DateResolver);
export const BoundedDateTimeResolver = bounded(DateTimeResolver);
