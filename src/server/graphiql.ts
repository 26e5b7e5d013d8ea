// GraphiQL as the project serves it: the page and its code come from the @graphql-yoga/render-graphiql
// package (GraphiQL, Monaco and its workers inlined), so /graphql works on a network without internet.
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import type { GraphiQLOptions } from 'graphql-yoga';

export const graphiqlDefaultQuery = `# Ask for your data, e.g.
{
  me {
    name
    masteries { subcategory score }
    sessions(first: 3) { edges { node { startedAt summary { accuracy topicsCovered } } } }
  }
}
`;

/** GraphiQL's options: subscriptions over graphql-ws, the given token (development mode) in its headers. */
export function graphiqlOptions(token?: string): GraphiQLOptions {
  return {
    title: 'Learnloop',
    subscriptionsProtocol: 'WS',
    headers: token ? JSON.stringify({ authorization: `Bearer ${token}` }, null, 2) : undefined,
    defaultQuery: graphiqlDefaultQuery,
  };
}

/** The page is 9 MB of inlined code: render it once per set of options, not per request. */
export function graphiqlRenderer(): (options: GraphiQLOptions) => string {
  const pages = new Map<string, string>();
  return (options) => {
    const key = JSON.stringify(options);
    let page = pages.get(key);
    if (page === undefined) {
      page = renderGraphiQL(options);
      pages.set(key, page);
    }
    return page;
  };
}
