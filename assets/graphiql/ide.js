// Starts GraphiQL against the page's own address (`/graphql`, with or without a trailing slash).
const fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
const root = ReactDOM.createRoot(document.getElementById('graphiql'));
root.render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultEditorToolsVisibility: true,
    defaultQuery: `# To sign in, add under Headers:
#   { "Authorization": "Token <jwt>" }
query LatestArticles {
  articles(first: 10) {
    totalCount
    edges {
      node {
        slug
        title
        tagList
        favoritesCount
        author { username }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`,
  }),
);
