// The Vercel AI SDK's default provider, openai('gpt-4o') (the Responses API), with a function
// tool: generateText and streamText against the server at argv[2], printing what they answered.
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';

const [baseURL, apiKey] = process.argv.slice(2);
const openai = createOpenAI({ baseURL, apiKey });
const tools = {
  get_weather: tool({
    description: 'The weather in a city',
    inputSchema: z.object({ city: z.string() }),
    execute: async ({ city }) => `sunny in ${city}`,
  }),
};
const ask = { model: openai('gpt-4o'), prompt: 'Weather in Oslo?', tools, stopWhen: stepCountIs(3) };
const plain = await generateText(ask);
const streamed = streamText(ask);
let text = '';
for await (const piece of streamed.textStream) text += piece;
const calls = plain.steps[0].toolCalls.map((call) => [call.toolName, call.input]);
console.log(JSON.stringify({ plain: plain.text, calls, streamed: text }));
